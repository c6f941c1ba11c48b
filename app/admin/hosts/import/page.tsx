// /admin/hosts/import — add many hosts at once from CSV or JSON, previewed, all or nothing
import Link from "next/link";
import { HostImport } from "@/components/hosts/host-import";
import { Card } from "@/components/ui/card";
import { requirePageAdmin } from "@/lib/auth/guard";

export const metadata = { title: "Import hosts" };
export const dynamic = "force-dynamic";

export default async function ImportHostsPage() {
  await requirePageAdmin("/admin/hosts/import");
  return (
    <div className="max-w-5xl space-y-4">
      <div>
        <p className="text-sm text-stone-500">
          <Link href="/admin/hosts" className="hover:underline">
            Hosts
          </Link>{" "}
          /
        </p>
        <h1 className="text-2xl font-semibold">Import hosts</h1>
        <p className="text-sm text-stone-600">
          Paste or upload a CSV file (with a header line) or a JSON array of hosts. Preview checks every row; the import adds all of them, or none if any row is wrong. The same is one call to <code>POST /api/v1/hosts/import</code>.
        </p>
      </div>
      <Card>
        <HostImport />
      </Card>
    </div>
  );
}
