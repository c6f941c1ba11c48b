// Many researchers ask for the last machines at the same moment, through the real server:
// grants must never exceed the pool, and nothing may be leased twice.
import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { adminToken, api, apiOk, connectDatabase, registerResearcher } from "../support/api";

const HOSTS = 50;
const REQUESTS = 200;
const MEMBERS = 10;

test("[LEASES] 200 concurrent lease requests for a pool of 50 grant exactly 50, refuse 150, and lease no host twice", async () => {
  test.setTimeout(60_000);
  const run = randomBytes(3).toString("hex");
  const admin = await adminToken(`race-${run}`);

  // A pool of exactly 50 available hosts, and a project with no quota.
  const pool = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/pools", { name: `race-${run}`, maxLeaseHours: 48 }, 201);
  for (let batch = 0; batch < HOSTS; batch += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const n = batch + i;
        const mac = `02:${run.slice(0, 2)}:${run.slice(2, 4)}:${run.slice(4, 6)}:00:${n.toString(16).padStart(2, "0")}`;
        return apiOk(admin, "POST", "/api/v1/hosts", { name: `race-${run}-${String(n).padStart(2, "0")}`, poolId: pool.id, interfaces: [{ mac }] }, 201);
      }),
    );
  }
  const project = await apiOk<{ id: string }>(admin, "POST", "/api/v1/projects", { name: `race-${run}` }, 201);

  // 10 researchers with 20 tokens each: every request below comes from its own token.
  const members = await Promise.all(Array.from({ length: MEMBERS }, (_, i) => registerResearcher(`racer${i}`, REQUESTS / MEMBERS)));
  for (const m of members) await apiOk(admin, "POST", `/api/v1/projects/${project.id}/members`, { email: m.email }, 201);
  const tokens = members.flatMap((m) => m.tokens);
  expect(new Set(tokens).size).toBe(REQUESTS);

  const started = Date.now();
  const results = await Promise.all(tokens.map((token) => api(token, "POST", "/api/v1/leases", { poolId: pool.id, projectId: project.id, count: 1, durationHours: 2 })));
  const elapsed = Date.now() - started;
  console.log(`${REQUESTS} concurrent lease requests answered in ${elapsed} ms`);

  const granted = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status !== 201);
  expect(granted).toHaveLength(HOSTS);
  expect(refused).toHaveLength(REQUESTS - HOSTS);
  for (const r of refused) {
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("insufficient_capacity");
    expect(r.body.error.message).toContain("No host available");
  }
  const grantedHosts = granted.map((r) => (r.body as { hosts: { id: string }[] }).hosts[0]!.id);
  expect(new Set(grantedHosts).size).toBe(HOSTS);

  const sql = await connectDatabase();
  try {
    // The database agrees: no host in two active leases, and every host of the pool leased once.
    const doubled = await sql`
      select lh.host_id, count(*)::int as n from lease_hosts lh join leases l on l.id = lh.lease_id
      where l.state = 'active' and lh.released_at is null group by lh.host_id having count(*) > 1`;
    expect(doubled).toEqual([]);
    const [active] = await sql`
      select count(*)::int as n from lease_hosts lh join leases l on l.id = lh.lease_id
      where l.project_id = ${project.id} and l.state = 'active' and lh.released_at is null`;
    expect(active!.n).toBe(HOSTS);
    const [leased] = await sql`select count(*)::int as n from hosts where pool_id = ${pool.id} and state = 'leased'`;
    expect(leased!.n).toBe(HOSTS);

    // Three machines come back; asking for five grants nothing, not three.
    const back = granted.slice(0, 3);
    for (const r of back) {
      const lease = r.body as { id: string; userEmail: string };
      const owner = members.find((m) => m.email === lease.userEmail)!;
      await apiOk(owner.tokens[0]!, "POST", `/api/v1/leases/${lease.id}/release`, undefined, 200);
    }
    const [{ n: leasesBefore }] = (await sql`select count(*)::int as n from leases where project_id = ${project.id}`) as unknown as [{ n: number }];
    const five = await api(members[0]!.tokens[0]!, "POST", "/api/v1/leases", { poolId: pool.id, projectId: project.id, count: 5 });
    expect(five.status).toBe(409);
    expect(five.body.error.message).toMatch(/^Only 3 hosts available in pool race-\w+ right now; you asked for 5\. Nothing was leased\.$/);
    const [{ n: leasesAfter }] = (await sql`select count(*)::int as n from leases where project_id = ${project.id}`) as unknown as [{ n: number }];
    expect(leasesAfter).toBe(leasesBefore);
    const [available] = await sql`select count(*)::int as n from hosts where pool_id = ${pool.id} and state = 'available'`;
    expect(available!.n).toBe(3);
    // …and asking for exactly what is free succeeds.
    const three = await api(members[1]!.tokens[0]!, "POST", "/api/v1/leases", { poolId: pool.id, projectId: project.id, count: 3 });
    expect(three.status).toBe(201);
    expect((three.body as { hosts: unknown[] }).hosts).toHaveLength(3);
  } finally {
    await sql.end({ timeout: 5 });
  }
});
