// Set-based reads and writes for a bulk import of hosts (lib/hosts/import.ts). Lists are passed
// as one text parameter split in SQL, not one parameter per value: 10,000 hosts with two MACs
// each would pass PostgreSQL's 65,535-parameter limit. Names and MACs never contain a comma
// (both are validated before they get here).
import { eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { hostEvents, hostInterfaces, hosts, pools, sites } from "../schema";
import type { HostInsert } from "./hosts";

function csvList(values: string[]): string {
  return values.join(",");
}

/** Which of these host names exist already. */
export async function findExistingHostNames(db: DbOrTx, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await db.select({ name: hosts.name }).from(hosts).where(sql`${hosts.name} = any(string_to_array(${csvList(names)}, ','))`);
  return new Set(rows.map((r) => r.name));
}

/** Which of these MACs belong to a host already, with that host's name. */
export async function findHostsOfMacs(db: DbOrTx, macs: string[]): Promise<Map<string, string>> {
  if (macs.length === 0) return new Map();
  const rows = await db
    .select({ mac: hostInterfaces.mac, hostName: hosts.name })
    .from(hostInterfaces)
    .innerJoin(hosts, eq(hosts.id, hostInterfaces.hostId))
    .where(sql`${hostInterfaces.mac} = any(string_to_array(${csvList(macs)}, ','))`);
  return new Map(rows.map((r) => [r.mac, r.hostName]));
}

/** Every pool and site by name: an import names them, and there are few. */
export async function listPoolAndSiteNames(db: DbOrTx): Promise<{ pools: Map<string, string>; sites: Map<string, string> }> {
  const [p, s] = await Promise.all([db.select({ id: pools.id, name: pools.name }).from(pools), db.select({ id: sites.id, name: sites.name }).from(sites)]);
  return { pools: new Map(p.map((r) => [r.name, r.id])), sites: new Map(s.map((r) => [r.name, r.id])) };
}

/** Rows per INSERT: about 12 parameters a host row, well under the 65,535 limit, and few round trips. */
const BATCH = 2000;

/** Inserts hosts, their interfaces and a "created" event each, in batches; returns name → id. */
export async function insertImportedHosts(
  db: DbOrTx,
  rows: { host: HostInsert; interfaces: { mac: string; name: string; isPxe: boolean }[] }[],
  event: { actorUserId: string | null; message: string },
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (let i = 0; i < rows.length; i += BATCH) {
    const part = rows.slice(i, i + BATCH);
    const inserted = await db
      .insert(hosts)
      .values(part.map((r) => r.host))
      .returning({ id: hosts.id, name: hosts.name, state: hosts.state });
    const byName = new Map(inserted.map((h) => [h.name, h]));
    for (const h of inserted) ids.set(h.name, h.id);
    const ifaces = part.flatMap((r) => r.interfaces.map((f) => ({ ...f, hostId: byName.get(r.host.name)!.id })));
    for (let j = 0; j < ifaces.length; j += BATCH * 2) await db.insert(hostInterfaces).values(ifaces.slice(j, j + BATCH * 2));
    await db.insert(hostEvents).values(inserted.map((h) => ({ hostId: h.id, kind: "created", toState: h.state, actorUserId: event.actorUserId, message: event.message })));
  }
  return ids;
}
