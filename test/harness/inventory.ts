// Inventory for the lease-domain integration tests: users, hosts, a pool and projects in a
// few statements, so a test seeds exactly what it needs in milliseconds. Pools and projects
// go through lib/ (their validation is part of what is tested elsewhere); hosts and users are
// inserted in bulk by db/queries, because hundreds of createHost / argon2 hashes would only slow tests down.
import { randomBytes } from "node:crypto";
import { insertHosts, insertInterfaces, listHostStates } from "@/db/queries/hosts";
import { createUsers } from "@/db/queries/users";
import type { HostRow, HostState, PoolRow, ProjectRow, UserRow } from "@/db/schema";
import { actorOf, type Actor } from "@/lib/access/actor";
import type { Db, DbOrTx } from "@/lib/db";
import { createPool } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { createActiveUser, testContext, uniqueEmail } from "./fixtures";

const HOUR = 3600_000;

export function hoursAfter(at: Date, hours: number): Date {
  return new Date(at.getTime() + hours * HOUR);
}

/** A short random tag for names, so rows of one test never collide with another's. */
export function uniqueSuffix(): string {
  return randomBytes(3).toString("hex");
}

/** Verified, approved accounts without a password (nobody signs in as them; they only act through lib/). */
export async function insertActiveUsers(db: DbOrTx, count: number, prefix = "user"): Promise<UserRow[]> {
  const now = new Date();
  return createUsers(db, Array.from({ length: count }, () => ({ email: uniqueEmail(prefix), emailVerifiedAt: now, approvedAt: now })));
}

export type SeedHostsOptions = {
  poolId?: string | null;
  count: number;
  /** Name prefix; names are `<prefix>-<nn>`, zero-padded so they sort in creation order. */
  prefix?: string;
  state?: HostState;
  tags?: string[];
  cpuCores?: number;
  memoryMb?: number;
  /** Facts as commissioning stores them (hosts.disks, hosts.facts), the same for every host seeded. */
  disks?: HostRow["disks"];
  facts?: HostRow["facts"];
};

/** Hosts with one PXE interface each (locally administered MACs under a random prefix). */
export async function seedHosts(db: DbOrTx, o: SeedHostsOptions): Promise<HostRow[]> {
  const prefix = o.prefix ?? `h${uniqueSuffix()}`;
  const width = String(o.count).length;
  const macBase = randomBytes(3);
  const rows = await insertHosts(
    db,
    Array.from({ length: o.count }, (_, i) => ({
      name: `${prefix}-${String(i + 1).padStart(Math.max(2, width), "0")}`,
      state: o.state ?? "available",
      poolId: o.poolId ?? null,
      tags: o.tags ?? [],
      cpuCores: o.cpuCores ?? null,
      memoryMb: o.memoryMb ?? null,
      disks: o.disks ?? [],
      facts: o.facts ?? {},
    })),
  );
  await insertInterfaces(
    db,
    rows.map((h, i) => ({
      hostId: h.id,
      mac: ["02", ...macBase.toString("hex").match(/../g)!, ((i >> 8) & 0xff).toString(16).padStart(2, "0"), (i & 0xff).toString(16).padStart(2, "0")].join(":"),
      isPxe: true,
    })),
  );
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

/** The state of each host asked for, by id (of every host without `ids`). */
export async function hostStates(db: DbOrTx, ids?: string[]): Promise<Record<string, HostState>> {
  return Object.fromEntries((await listHostStates(db, ids)).map((r) => [r.id, r.state]));
}

export type LeaseWorld = {
  admin: UserRow;
  /** The admin acting from an address of its own. */
  adminActor: Actor;
  pool: PoolRow;
  hosts: HostRow[];
  projects: ProjectRow[];
  /** members[p] are the members of projects[p]. */
  members: UserRow[][];
};

/**
 * An admin, one pool of `hosts` available hosts, `projects` projects (the quotas given apply
 * to each) with `membersPerProject` members each.
 */
export async function seedLeaseWorld(
  db: Db,
  o: {
    hosts: number;
    hostOptions?: Omit<SeedHostsOptions, "count" | "poolId">;
    pool?: { defaultLeaseHours?: number; maxLeaseHours?: number };
    projects?: number;
    membersPerProject?: number;
    quotas?: { maxHosts?: number | null; maxLeaseHours?: number | null; maxNodeHoursPerMonth?: number | null };
  },
): Promise<LeaseWorld> {
  const suffix = uniqueSuffix();
  const { user: admin } = await createActiveUser(db, { admin: true });
  const adminActor = actorOf(admin, testContext());
  const pool = await createPool(db, adminActor, { name: `pool-${suffix}`, ...o.pool });
  const seeded = await seedHosts(db, { poolId: pool.id, count: o.hosts, prefix: `n${suffix}`, ...o.hostOptions });
  const projects: ProjectRow[] = [];
  const members: UserRow[][] = [];
  for (let p = 0; p < (o.projects ?? 1); p++) {
    const project = await createProject(db, adminActor, { name: `proj-${suffix}-${p}`, ...o.quotas });
    const people = await insertActiveUsers(db, o.membersPerProject ?? 1, `member${p}`);
    for (const person of people) await addProjectMember(db, adminActor, project.id, { userId: person.id });
    projects.push(project);
    members.push(people);
  }
  return { admin, adminActor, pool, hosts: seeded, projects, members };
}

/** The actor for a person acting through the web, from an address of their own. */
export function as(user: UserRow): Actor {
  return actorOf(user, testContext());
}
