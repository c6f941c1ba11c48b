import { describe, expect, it } from "vitest";
import { actorOf, SYSTEM } from "@/lib/audit/audit";
import { createHost, listHosts, getHostDetail } from "@/lib/hosts/hosts";
import { createPool, listPools } from "@/lib/pools/pools";
import { addProjectMember, createProject, getProject } from "@/lib/projects/projects";
import { createLease, extendLease, handOverLease, listLeases, releaseLease } from "@/lib/leases/leases";
import { expireDueLeases } from "@/lib/leases/expiry";
import { searchAudit } from "@/lib/audit/audit";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser } from "@/test/harness/fixtures";

const t = await useTestDb();

describe("lease smoke", () => {
  it("creates, extends, hands over, releases and expires", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user: alice } = await createActiveUser(t.db);
    const { user: bob } = await createActiveUser(t.db);
    const A = actorOf(admin, null);
    const pool = await createPool(t.db, A, { name: "rack1", maxLeaseHours: 48 });
    for (let i = 0; i < 4; i++) await createHost(t.db, A, { name: `n${i}`, poolId: pool.id, tags: ["gpu"], cpuCores: 8, interfaces: [{ mac: `52:54:00:00:00:0${i}` }] });
    const project = await createProject(t.db, A, { name: "astro", maxHosts: 3 });
    await addProjectMember(t.db, A, project.id, { email: alice.email });
    await addProjectMember(t.db, A, project.id, { email: bob.email });
    const now = new Date("2026-11-10T10:00:00Z");
    const lease = await createLease(t.db, actorOf(alice, null), { poolId: pool.id, count: 2, tags: ["gpu"], durationHours: 4 }, { now });
    expect(lease.hosts).toHaveLength(2);
    await expect(createLease(t.db, actorOf(alice, null), { poolId: pool.id, count: 2 }, { now })).rejects.toMatchObject({ code: "quota_exceeded" });
    await extendLease(t.db, actorOf(alice, null), lease.id, { hours: 2 }, { now });
    const split = await handOverLease(t.db, actorOf(alice, null), lease.id, { toEmail: bob.email, hostId: lease.hosts[0]!.id }, { now });
    expect(split.userEmail).toBe(bob.email);
    await releaseLease(t.db, actorOf(bob, null), split.id, { now });
    expect((await listHosts(t.db, A, { state: "available" })).pagination.total).toBe(3);
    expect(await expireDueLeases(t.db, { now: new Date(now.getTime() + 7 * 3600_000) })).toBe(1);
    expect((await listHosts(t.db, A, { state: "available" })).pagination.total).toBe(4);
    const pools = await listPools(t.db);
    expect(pools[0]).toMatchObject({ hostCount: 4, availableCount: 4 });
    const p = await getProject(t.db, A, project.id);
    expect(p.usage.activeHosts).toBe(0);
    expect(p.usage.nodeHoursThisMonth).toBeGreaterThan(0);
    const mine = await listLeases(t.db, actorOf(alice, null), {});
    expect(mine.data[0]!.state).toBe("expired");
    const d = await getHostDetail(t.db, A, lease.hosts[1]!.id);
    expect(d.events.length).toBeGreaterThan(3);
    const audit = await searchAudit(t.db, { action: "lease" });
    expect(audit.pagination.total).toBeGreaterThan(3);
    void SYSTEM;
  });
});
