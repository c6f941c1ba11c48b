// Raspberry Pis, found by the serial number their firmware puts in its TFTP paths (hosts.pi_serial).
import { eq } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { hosts, type HostRow } from "../schema";

export async function findHostByPiSerial(db: DbOrTx, serial: string): Promise<HostRow | undefined> {
  const [row] = await db.select().from(hosts).where(eq(hosts.piSerial, serial)).limit(1);
  return row;
}

/**
 * Records an unknown Pi as a new host (state new, arm64, no interfaces until someone adds its
 * MAC). Undefined when the serial (or the name) was taken by a request that raced this one.
 */
export async function insertDiscoveredPi(db: DbOrTx, p: { serial: string; sourceIp: string | null; at: Date; siteId?: string | null }): Promise<HostRow | undefined> {
  const [host] = await db
    .insert(hosts)
    .values({ name: `pi-${p.serial}`, state: "new", arch: "arm64", piSerial: p.serial, sourceIp: p.sourceIp, firstSeenAt: p.at, lastSeenAt: p.at, ...(p.siteId ? { siteId: p.siteId } : {}) })
    .onConflictDoNothing()
    .returning();
  return host;
}
