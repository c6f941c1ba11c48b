import { and, eq, inArray } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { deploymentConsoles, deployments, hosts } from "../schema";

/** Drivers that offer a console (lib/console/sources.ts). */
export const CONSOLE_DRIVERS = ["qemu", "ipmi"];

/** Runs still going (pending or running) on hosts whose driver offers a console, optionally of one site. */
export async function listActiveConsoleDeployments(db: DbOrTx, p: { siteId?: string | null } = {}): Promise<{ deploymentId: string; hostId: string }[]> {
  return db
    .select({ deploymentId: deployments.id, hostId: deployments.hostId })
    .from(deployments)
    .innerJoin(hosts, eq(hosts.id, deployments.hostId))
    .where(and(inArray(deployments.state, ["pending", "running"]), inArray(hosts.powerDriver, CONSOLE_DRIVERS), p.siteId ? eq(hosts.siteId, p.siteId) : undefined));
}

export async function getDeploymentConsole(db: DbOrTx, deploymentId: string): Promise<{ text: string; updatedAt: Date } | undefined> {
  const [row] = await db.select({ text: deploymentConsoles.text, updatedAt: deploymentConsoles.updatedAt }).from(deploymentConsoles).where(eq(deploymentConsoles.deploymentId, deploymentId)).limit(1);
  return row;
}

export async function upsertDeploymentConsole(db: DbOrTx, p: { deploymentId: string; text: string; at: Date }): Promise<void> {
  await db
    .insert(deploymentConsoles)
    .values({ deploymentId: p.deploymentId, text: p.text, updatedAt: p.at })
    .onConflictDoUpdate({ target: deploymentConsoles.deploymentId, set: { text: p.text, updatedAt: p.at } });
}
