// The audit log: every kind of change leaves one entry naming who (account and address) did
// what to which target, in the change's own transaction — so a refused change leaves none.
import { describe, expect, it } from "vitest";
import { countRows } from "@/db/queries/testing";
import { updateUserAsAdmin } from "@/lib/accounts/admin";
import { acceptHost, bulkUpdateHosts, changeHostState, createHost, deleteHost, updateHost } from "@/lib/hosts/hosts";
import { expireDueLeases } from "@/lib/leases/expiry";
import { createLease, extendLease, handOverLease, releaseLease } from "@/lib/leases/leases";
import { createPool, deletePool, updatePool } from "@/lib/pools/pools";
import { addProjectMember, createProject, deleteProject, removeProjectMember, updateProject } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { hoursAfter, seedHosts, uniqueSuffix } from "@/test/harness/inventory";
import { actorOf } from "../access/actor";
import { searchAudit } from "./audit";

const t = await useTestDb();
const NOW = new Date("2026-11-10T10:00:00Z");

async function auditRows(): Promise<number> {
  return (await countRows(t.db, ["audit_log"])).audit_log;
}

describe("audit log", () => {
  it("records every change to hosts, pools, projects, leases and users with the actor and their address", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user: ann } = await createActiveUser(t.db);
    const { user: ben } = await createActiveUser(t.db);
    const ADMIN_IP = "198.51.100.7";
    const ANN_IP = "2001:db8::1";
    const A = actorOf(admin, { ip: ADMIN_IP, userAgent: "vitest" });
    const ANN = actorOf(ann, { ip: ANN_IP, userAgent: "vitest" });
    const s = uniqueSuffix();

    const pool = await createPool(t.db, A, { name: `audit-${s}` });
    await updatePool(t.db, A, pool.id, { maxLeaseHours: 100 });
    const host = await createHost(t.db, A, { name: `a-${s}`, poolId: pool.id, interfaces: [{ mac: "02:aa:00:00:00:01" }] });
    await updateHost(t.db, A, host.id, { notes: "rack 1" });
    await changeHostState(t.db, A, host.id, { state: "maintenance", reason: "firmware" });
    await bulkUpdateHosts(t.db, A, { hostIds: [host.id], action: "available" });
    const [found] = await seedHosts(t.db, { count: 1, state: "new" });
    await acceptHost(t.db, A, found!.id, { poolId: pool.id });
    await bulkUpdateHosts(t.db, A, { hostIds: [found!.id], action: "move_to_pool", poolId: null });
    const project = await createProject(t.db, A, { name: `audit-${s}` });
    await updateProject(t.db, A, project.id, { maxHosts: 10 });
    await addProjectMember(t.db, A, project.id, { email: ann.email, role: "leader" });
    await addProjectMember(t.db, ANN, project.id, { email: ben.email });
    const lease = await createLease(t.db, ANN, { poolId: pool.id, durationHours: 2 }, { now: NOW });
    await extendLease(t.db, ANN, lease.id, { hours: 1 }, { now: NOW });
    await handOverLease(t.db, ANN, lease.id, { toEmail: ben.email }, { now: NOW });
    await releaseLease(t.db, A, lease.id, { now: NOW });
    const second = await createLease(t.db, ANN, { poolId: pool.id, durationHours: 1 }, { now: NOW });
    await expireDueLeases(t.db, { now: hoursAfter(NOW, 1) });
    await removeProjectMember(t.db, ANN, project.id, ben.id);
    await updateUserAsAdmin(t.db, admin, ben.id, { role: "admin" }, { ip: ADMIN_IP, userAgent: "vitest" });
    const spare = await createProject(t.db, A, { name: `spare-${s}` });
    await deleteProject(t.db, A, spare.id);
    const [gone] = await seedHosts(t.db, { count: 1 });
    await deleteHost(t.db, A, gone!.id);
    await deletePool(t.db, A, pool.id);

    const { data } = await searchAudit(t.db, { per_page: 500 });
    const byAdmin = { actorUserId: admin.id, actorEmail: admin.email, actorIp: ADMIN_IP };
    const byAnn = { actorUserId: ann.id, actorEmail: ann.email, actorIp: ANN_IP };
    const find = (action: string, targetId: string) => {
      const hits = data.filter((r) => r.action === action && r.targetId === targetId);
      expect(hits, `${action} on ${targetId}`).toHaveLength(1);
      return hits[0]!;
    };

    expect(find("pool.create", pool.id)).toMatchObject({ ...byAdmin, targetType: "pool", summary: `created pool audit-${s}` });
    expect(find("pool.update", pool.id)).toMatchObject(byAdmin);
    expect(find("pool.delete", pool.id)).toMatchObject({ ...byAdmin, summary: `deleted pool audit-${s}` });
    expect(find("host.create", host.id)).toMatchObject({ ...byAdmin, targetType: "host", data: { macs: ["02:aa:00:00:00:01"] } });
    expect(find("host.update", host.id)).toMatchObject({ ...byAdmin, summary: `updated host a-${s}: notes` });
    expect(find("host.state", host.id)).toMatchObject({ ...byAdmin, summary: `host a-${s}: available → maintenance (firmware)` });
    expect(find("host.accept", found!.id)).toMatchObject(byAdmin);
    expect(find("host.delete", gone!.id)).toMatchObject(byAdmin);
    const bulk = data.filter((r) => r.action.startsWith("host.bulk."));
    expect(bulk.map((r) => [r.action, r.actorIp, r.data])).toEqual([
      ["host.bulk.move_to_pool", ADMIN_IP, { hostIds: [found!.id], poolId: null }],
      ["host.bulk.available", ADMIN_IP, { hostIds: [host.id], poolId: null }],
    ]);
    expect(find("project.create", project.id)).toMatchObject({ ...byAdmin, targetType: "project" });
    expect(find("project.update", project.id)).toMatchObject(byAdmin);
    expect(find("project.delete", spare.id)).toMatchObject(byAdmin);
    const adds = data.filter((r) => r.action === "project.member.add" && r.targetId === project.id);
    expect(adds.map((r) => [r.actorEmail, r.actorIp, r.summary])).toEqual([
      [ann.email, ANN_IP, `added ${ben.email} to audit-${s} as member`],
      [admin.email, ADMIN_IP, `added ${ann.email} to audit-${s} as leader`],
    ]);
    expect(find("project.member.remove", project.id)).toMatchObject({ ...byAnn, data: { userId: ben.id } });
    expect(find("lease.create", lease.id)).toMatchObject({ ...byAnn, targetType: "lease", summary: `leased a-${s} to ${ann.email} in audit-${s} for 2 hours` });
    expect(find("lease.extend", lease.id)).toMatchObject({ ...byAnn, summary: "extended lease by 1 hour" });
    expect(find("lease.handover", lease.id)).toMatchObject({ ...byAnn, summary: `handed lease over from ${ann.email} to ${ben.email}` });
    expect(find("lease.release", lease.id)).toMatchObject({ ...byAdmin, summary: `released lease of a-${s} by ${admin.email}` });
    // The expiry job acts as the system: no account, no address.
    expect(find("lease.expire", second.id)).toMatchObject({ actorUserId: null, actorEmail: "system", actorIp: null });
    expect(find("user.update", ben.id)).toMatchObject({ ...byAdmin, targetType: "user", summary: `${ben.email}: role user → admin` });
    expect(find("user.create", ann.id)).toMatchObject({ actorEmail: "system", actorIp: null });

    // Filters: by action family, by actor, by target.
    const leaseEntries = await searchAudit(t.db, { action: "lease", per_page: 500 });
    expect(new Set(leaseEntries.data.map((r) => r.action))).toEqual(new Set(["lease.create", "lease.extend", "lease.handover", "lease.release", "lease.expire"]));
    expect((await searchAudit(t.db, { action: "host.bulk" })).pagination.total).toBe(2);
    expect((await searchAudit(t.db, { actor: ann.email })).data.every((r) => r.actorEmail === ann.email)).toBe(true);
    expect((await searchAudit(t.db, { targetType: "lease", targetId: lease.id })).data.map((r) => r.action)).toEqual([
      "lease.release",
      "lease.handover",
      "lease.extend",
      "lease.create",
    ]);
    expect((await searchAudit(t.db, { actor: "%" })).data).toEqual([]);
  });

  it("writes nothing for a refused change", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user: ann } = await createActiveUser(t.db);
    const A = actorOf(admin, { ip: "198.51.100.8", userAgent: "vitest" });
    const pool = await createPool(t.db, A, { name: `refuse-${uniqueSuffix()}`, maxLeaseHours: 4, defaultLeaseHours: 4 });
    const project = await createProject(t.db, A, { name: `refuse-${uniqueSuffix()}`, maxHosts: 1 });
    await addProjectMember(t.db, A, project.id, { userId: ann.id });
    const [host] = await seedHosts(t.db, { count: 2, poolId: pool.id });
    const ANN = actorOf(ann, { ip: "198.51.100.9", userAgent: "vitest" });
    const before = await auditRows();

    await expectAppError(createLease(t.db, ANN, { poolId: pool.id, count: 2 }), "quota_exceeded");
    await expectAppError(createLease(t.db, ANN, { poolId: pool.id, durationHours: 5 }), "quota_exceeded");
    await expectAppError(createPool(t.db, A, { name: pool.name }), "validation");
    await expectAppError(bulkUpdateHosts(t.db, A, { hostIds: [host!.id], action: "move_to_pool", poolId: "00000000-0000-4000-8000-000000000000" }), "validation");
    await expectAppError(changeHostState(t.db, A, host!.id, { state: "available" }), "conflict");
    expect(await auditRows()).toBe(before);
  });
});
