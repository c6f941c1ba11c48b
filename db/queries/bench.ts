// For benches only (bench/leases.ts, bench/reservations.ts); nothing in the app calls these.
// Raw SQL on purpose: the benches seed thousands of rows in one statement, start each phase
// from the same state, and time the fastest statement PostgreSQL has for a grant as the
// baseline Kiln is compared against. They run on the bench's own pool, like Kiln's calls.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../client";

/** Every lease (and what points at one) gone, every host available, statistics fresh. */
export async function resetLeaseBench(db: DbOrTx): Promise<void> {
  // cascade: tables of other features that point at leases (deployments…) are empty here anyway.
  await db.execute(sql`truncate lease_events, lease_hosts, leases, host_events, audit_log cascade`);
  await db.execute(sql`update hosts set state = 'available'`);
  await db.execute(sql`vacuum analyze`);
}

/** Holds one pool connection for 50 ms: called once per connection, it opens every one of them. */
export async function holdConnection(db: DbOrTx): Promise<void> {
  await db.execute(sql`select pg_sleep(0.05)`);
}

export async function getServerVersion(db: DbOrTx): Promise<string> {
  const [info] = await db.execute<{ version: string }>(sql`select current_setting('server_version') as version`);
  return info!.version;
}

/** `count` available hosts named bench-000001… in the pool. */
export async function insertBenchHosts(db: DbOrTx, p: { poolId: string; count: number }): Promise<void> {
  await db.execute(sql`
        insert into hosts (name, state, pool_id)
        select 'bench-' || lpad(i::text, 6, '0'), 'available', ${p.poolId} from generate_series(1, ${p.count}) i`);
}

/** `count` verified, approved users bench-1@bench.example…; their ids. */
export async function insertBenchUsers(db: DbOrTx, p: { count: number }): Promise<{ id: string }[]> {
  return await db.execute<{ id: string }>(sql`
        insert into users (email, email_verified_at, approved_at)
        select 'bench-' || i || '@bench.example', now(), now() from generate_series(1, ${p.count}) i returning id`);
}

/** The user becomes a member of both projects. */
export async function insertBenchMemberships(db: DbOrTx, p: { userId: string; projectIds: [string, string] }): Promise<void> {
  await db.execute(sql`insert into project_members (project_id, user_id) values (${p.projectIds[0]}, ${p.userId}), (${p.projectIds[1]}, ${p.userId})`);
}

/**
 * The baseline grant: one statement takes the first available host of the pool, no lease row,
 * no quota, no audit. Whether it got one.
 */
export async function grantHostRaw(db: DbOrTx, p: { poolId: string }): Promise<boolean> {
  const rows = await db.execute(sql`
          update hosts set state = 'leased', state_changed_at = now(), updated_at = now()
          where id = (select id from hosts where pool_id = ${p.poolId} and state = 'available' order by name limit 1 for update skip locked)
          returning id`);
  return rows.length === 1;
}

export async function countLeasedHosts(db: DbOrTx): Promise<number> {
  const [counted] = await db.execute<{ leased: number }>(sql`select count(*)::int as leased from hosts where state = 'leased'`);
  return counted!.leased;
}

/** The reservations bench's one user (bench@lab.example, verified and approved); its id. */
export async function insertBenchUser(db: DbOrTx): Promise<string> {
  const [user] = await db.execute<{ id: string }>(sql`insert into users (email, email_verified_at, approved_at) values ('bench@lab.example', now(), now()) returning id`);
  return user!.id;
}
