// / — the researcher's dashboard: machines held, getting more, projects
import Link from "next/link";
import { MyMachines } from "@/components/leases/my-machines";
import type { PoolOption } from "@/components/leases/types";
import { Card } from "@/components/ui/card";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listLeases } from "@/lib/leases/leases";
import { listPools } from "@/lib/pools/pools";
import { getMyProjects } from "@/lib/projects/projects";

export const dynamic = "force-dynamic";

export default async function DashboardPage({ searchParams }: { searchParams: Promise<{ capture?: string | string[] }> }) {
  // ?capture=<lease>: the reminder mail's link opens that lease's capture dialog (after sign-in).
  const { capture } = await searchParams;
  const { user } = await requirePageUser(typeof capture === "string" ? `/?capture=${encodeURIComponent(capture)}` : "/");
  const db = getAppDb();
  const [leases, pools, projects] = await Promise.all([
    listLeases(db, actorOf(user, null), { scope: "mine", per_page: 100 }),
    listPools(db),
    getMyProjects(db, user.id),
  ]);
  const poolOptions: PoolOption[] = pools.map((p) => ({
    id: p.id,
    name: p.name,
    description: p.description,
    hostCount: p.hostCount,
    availableCount: p.availableCount,
    defaultLeaseHours: p.defaultLeaseHours,
    maxLeaseHours: p.maxLeaseHours,
  }));
  return (
    <div className="mx-auto max-w-6xl space-y-6 px-4 py-8">
      <div>
        <h1 className="text-2xl font-semibold">Welcome{user.name ? `, ${user.name}` : ""}</h1>
        <p className="mt-1 text-sm text-stone-600">Lease machines from the lab&apos;s pools, hand them on, give them back.</p>
      </div>
      <div className="grid gap-6 lg:grid-cols-[1fr_18rem]">
        <MyMachines initial={leases} captureLeaseId={typeof capture === "string" ? capture : undefined} pools={poolOptions} projects={projects.map((p) => ({ projectId: p.projectId, name: p.name, role: p.role }))} />
        <aside className="space-y-4">
          <Card title="Your projects" description={projects.length === 0 ? "None yet." : "Leases are charged to these."}>
            {projects.length > 0 ? (
              <ul className="space-y-1 text-sm">
                {projects.map((p) => (
                  <li key={p.projectId} className="flex items-center justify-between gap-2">
                    <Link href={`/projects/${p.projectId}`} className="font-medium text-kiln-700 hover:underline">
                      {p.name}
                    </Link>
                    <span className="text-xs text-stone-500">{p.role}</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="text-sm text-stone-600">An administrator adds you to a project.</p>
            )}
          </Card>
          {pools.length > 0 ? (
            <Card title="Pool calendars" description="Who holds what, this week and ahead; book hosts in advance.">
              <ul className="space-y-1 text-sm">
                {pools.map((p) => (
                  <li key={p.id}>
                    <Link href={`/pools/${p.id}/calendar`} className="font-medium text-kiln-700 hover:underline" aria-label={`Calendar of ${p.name}`}>
                      {p.name}
                    </Link>
                  </li>
                ))}
              </ul>
            </Card>
          ) : null}
          <Card title="Your account" description={user.email}>
            <Link href="/profile" className="text-sm font-medium text-kiln-700 hover:underline">
              Add SSH keys and access tokens →
            </Link>
          </Card>
        </aside>
      </div>
    </div>
  );
}
