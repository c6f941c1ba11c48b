// /admin/pools — pools with their host counts and lease policy
import { PoolManager } from "@/components/pools/pool-manager";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listPools } from "@/lib/pools/pools";

export const metadata = { title: "Pools" };
export const dynamic = "force-dynamic";

export default async function AdminPoolsPage() {
  await requirePageAdmin("/admin/pools");
  const pools = await listPools(getAppDb());
  return (
    <PoolManager
      pools={pools.map((p) => ({
        id: p.id,
        name: p.name,
        description: p.description,
        defaultLeaseHours: p.defaultLeaseHours,
        maxLeaseHours: p.maxLeaseHours,
        endGraceMinutes: p.endGraceMinutes,
        hostCount: p.hostCount,
        availableCount: p.availableCount,
      }))}
    />
  );
}
