// / — the dashboard
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { requirePageUser } from "@/lib/auth/guard";

export const dynamic = "force-dynamic";

export default async function DashboardPage() {
  const { user } = await requirePageUser("/");
  return (
    <div className="mx-auto max-w-6xl space-y-6 px-4 py-8">
      <div>
        <h1 className="text-2xl font-semibold">Welcome{user.name ? `, ${user.name}` : ""}</h1>
        <p className="mt-1 text-sm text-stone-600">Your leases, deployments and images will appear here.</p>
      </div>
      <div className="grid gap-4 md:grid-cols-3">
        <Card title="Your machines" description="You hold no leases yet.">
          <p className="text-sm text-stone-500">Leasing machines from a pool arrives with the next release.</p>
        </Card>
        <Card title="Deployments" description="No deployment is running.">
          <p className="text-sm text-stone-500">Reinstalls you start will show their progress live here.</p>
        </Card>
        <Card title="Your account" description={user.email}>
          <Link href="/profile" className="text-sm font-medium text-kiln-700 hover:underline">
            Add SSH keys and access tokens →
          </Link>
        </Card>
      </div>
    </div>
  );
}
