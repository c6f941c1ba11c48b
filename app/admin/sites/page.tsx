// /admin/sites — sites with their boot URL and hosts, and every boot server's heartbeat, rate and errors
import { SitesManager } from "@/components/admin/sites-manager";
import { AutoRefresh } from "@/components/ui/auto-refresh";
import { actorOf } from "@/lib/access/actor";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { listBootServers, listSites } from "@/lib/sites/sites";

export const metadata = { title: "Sites & boot servers" };
export const dynamic = "force-dynamic";

export default async function AdminSitesPage() {
  const { user } = await requirePageAdmin("/admin/sites");
  const db = getAppDb();
  const actor = actorOf(user, null);
  const [sites, bootServers] = await Promise.all([listSites(db, actor), listBootServers(db, actor)]);
  return (
    <>
      {/* Heartbeats arrive every ~10 s; refresh a little faster so a late one shows promptly. */}
      <AutoRefresh seconds={5} />
      <SitesManager
        defaultBootUrl={getEnv().bootUrl}
        sites={sites.map((s) => ({ id: s.id, name: s.name, bootUrl: s.bootUrl, description: s.description, hostCount: s.hostCount, isDefault: s.isDefault }))}
        bootServers={bootServers.map((b) => ({
          id: b.id,
          name: b.name,
          siteName: b.siteName,
          url: b.url,
          version: b.version,
          status: b.status,
          lastHeartbeatAt: b.lastHeartbeatAt,
          secondsSinceHeartbeat: b.secondsSinceHeartbeat,
          requestsPerSecond: b.requestsPerSecond,
          intervalErrors: b.intervalErrors,
          totalRequests: b.totalRequests,
          totalErrors: b.totalErrors,
          memoryRatio: b.memoryRatio,
          p99Ms: b.p99Ms,
          dbReachable: b.dbReachable,
        }))}
      />
    </>
  );
}
