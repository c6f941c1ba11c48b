// /admin/hosts/new — add a host by hand
import Link from "next/link";
import { HostCreateForm } from "@/components/hosts/host-create-form";
import { Card } from "@/components/ui/card";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listPools } from "@/lib/pools/pools";

export const metadata = { title: "Add host" };
export const dynamic = "force-dynamic";

export default async function NewHostPage() {
  await requirePageAdmin("/admin/hosts/new");
  const pools = await listPools(getAppDb());
  return (
    <div className="max-w-2xl space-y-4">
      <div>
        <p className="text-sm text-stone-500">
          <Link href="/admin/hosts" className="hover:underline">
            Hosts
          </Link>{" "}
          /
        </p>
        <h1 className="text-2xl font-semibold">Add host</h1>
        <p className="text-sm text-stone-600">Machines that boot from the network register themselves and wait under New hosts; this form is for adding one by hand.</p>
      </div>
      <Card>
        <HostCreateForm pools={pools.map((p) => ({ id: p.id, name: p.name }))} />
      </Card>
    </div>
  );
}
