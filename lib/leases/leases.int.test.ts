// Leases end to end through lib/: who may ask for what, direct allocation, release,
// hand-over (whole or one host), and what each person can see afterwards.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getHostRow } from "@/db/queries/hosts";
import { insertLeases } from "@/db/queries/leases";
import { upsertMember } from "@/db/queries/projects";
import { updateUser } from "@/db/queries/users";
import { getHostDetail, listHosts } from "@/lib/hosts/hosts";
import { getProject } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { expectAppError } from "@/test/harness/fixtures";
import { as, hostStates, hoursAfter, insertActiveUsers, seedHosts, seedLeaseWorld } from "@/test/harness/inventory";
import { createLease, getLease, handOverLease, listLeases, releaseLease } from "./leases";

const t = await useTestDb();
const NOW = new Date("2026-11-10T10:00:00Z");

describe("asking for hosts from a pool", () => {
  it("takes only hosts that match tags, cores and memory, and says which filter found none", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, hostOptions: { tags: ["ssd"], cpuCores: 8, memoryMb: 16384 } });
    const gpu = await seedHosts(t.db, { poolId: w.pool.id, count: 2, prefix: `gpu${w.pool.name}`, tags: ["gpu", "ssd"], cpuCores: 32, memoryMb: 262144 });
    const ann = as(w.members[0]![0]!);

    const lease = await createLease(t.db, ann, { poolId: w.pool.id, tags: ["gpu"], minCores: 16 }, { now: NOW });
    expect(lease.hosts.map((h) => h.name)).toEqual([gpu[0]!.name]);
    expect(lease).toMatchObject({ state: "active", poolId: w.pool.id, poolName: w.pool.name, userEmail: w.members[0]![0]!.email, projectId: w.projects[0]!.id });

    await expectAppError(
      createLease(t.db, ann, { poolId: w.pool.id, count: 2, tags: ["gpu"] }, { now: NOW }),
      "insufficient_capacity",
      `Only 1 host available in pool ${w.pool.name} with tags gpu right now; you asked for 2. Nothing was leased.`,
    );
    await expectAppError(
      createLease(t.db, ann, { poolId: w.pool.id, minCores: 8, minMemoryMb: 300000 }, { now: NOW }),
      "insufficient_capacity",
      `3 hosts are free in pool ${w.pool.name}; 3 have at least 8 cores, none has at least 300000 MB memory. Nothing was leased.`,
    );
    await expectAppError(createLease(t.db, ann, { poolId: w.pool.id, count: 5 }, { now: NOW }), "validation", `Pool ${w.pool.name} has 4 hosts in all; you asked for 5.`);
    await expectAppError(createLease(t.db, ann, { poolId: randomUUID() }, { now: NOW }), "validation", "That pool does not exist.");
    await expectAppError(createLease(t.db, ann, { count: 1 }, { now: NOW }), "validation", "Ask either for a pool (poolId, count) or for given hosts (hostIds).");
  });

  it("charges the one project of a member, asks members of several to choose, and refuses non-members", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3, projects: 2 });
    const [ann] = w.members[0]!;
    const [loner] = await insertActiveUsers(t.db, 1);
    await expectAppError(
      createLease(t.db, as(loner!), { poolId: w.pool.id }, { now: NOW }),
      "forbidden",
      `${loner!.email} is not a member of any project, and every lease is charged to one. Ask an administrator to add you to a project.`,
    );
    await expectAppError(
      createLease(t.db, as(ann!), { poolId: w.pool.id, projectId: w.projects[1]!.id }, { now: NOW }),
      "validation",
      `${ann!.email} is not a member of that project, so it cannot be charged for this lease.`,
    );
    // Member of both: must say which.
    await upsertMember(t.db, { projectId: w.projects[1]!.id, userId: ann!.id, role: "member" });
    const names = w.projects.map((p) => p.name).sort();
    await expectAppError(createLease(t.db, as(ann!), { poolId: w.pool.id }, { now: NOW }), "validation", `Choose the project to charge: ${names.join(", ")}.`);
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id, projectId: w.projects[1]!.id }, { now: NOW });
    expect(lease.projectName).toBe(w.projects[1]!.name);
  });
});

describe("direct allocation", () => {
  it("lets an admin lease given hosts to a member, for the default 24 hours", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const loose = await seedHosts(t.db, { count: 2 }); // outside any pool
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, w.adminActor, { hostIds: loose.map((h) => h.id), userId: ann.id }, { now: NOW });
    expect(lease).toMatchObject({ userId: ann.id, poolId: null, endsAt: hoursAfter(NOW, 24).toISOString() });
    expect(lease.hosts.map((h) => [h.name, h.state])).toEqual(loose.map((h) => [h.name, "leased"]));
    expect((await listLeases(t.db, as(ann), {})).data.map((l) => l.id)).toEqual([lease.id]);
  });

  it("refuses hosts that are not available (409), unknown hosts, and everyone but admins (403)", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const [down] = await seedHosts(t.db, { count: 1, state: "maintenance" });
    const taken = await createLease(t.db, as(ann!), { poolId: w.pool.id }, { now: NOW });
    const free = w.hosts.find((h) => h.id !== taken.hosts[0]!.id)!;

    const busy = await expectAppError(
      createLease(t.db, w.adminActor, { hostIds: [free.id, taken.hosts[0]!.id], userId: ben!.id }, { now: NOW }),
      "conflict",
      `Host ${taken.hosts[0]!.name} is leased, not available. Nothing was leased.`,
    );
    expect(busy.status).toBe(409);
    await expectAppError(createLease(t.db, w.adminActor, { hostIds: [down!.id], userId: ben!.id }, { now: NOW }), "conflict", `Host ${down!.name} is maintenance, not available. Nothing was leased.`);
    await expectAppError(createLease(t.db, w.adminActor, { hostIds: [randomUUID()], userId: ben!.id }, { now: NOW }), "validation", "One of these hosts does not exist.");
    expect((await hostStates(t.db, [free.id]))[free.id]).toBe("available");

    const forbidden = await expectAppError(
      createLease(t.db, as(ann!), { hostIds: [free.id] }, { now: NOW }),
      "forbidden",
      "Only administrators allocate given hosts; ask for hosts from a pool instead.",
    );
    expect(forbidden.status).toBe(403);
    await expectAppError(
      createLease(t.db, as(ann!), { poolId: w.pool.id, userId: ben!.id }, { now: NOW }),
      "forbidden",
      "Only administrators lease hosts on someone else's behalf.",
    );
    // On someone's behalf, the holder must still be a member of the charged project.
    const [outsider] = await insertActiveUsers(t.db, 1);
    await expectAppError(createLease(t.db, w.adminActor, { hostIds: [free.id], userId: outsider!.id }, { now: NOW }), "forbidden", /is not a member of any project/);
  });
});

describe("releasing a lease", () => {
  it("lets the holder or an admin release; anyone else is told the lease does not exist", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 4, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const mine = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 2 }, { now: NOW });
    const other = await createLease(t.db, as(ann!), { poolId: w.pool.id }, { now: NOW });

    await expectAppError(releaseLease(t.db, as(ben!), mine.id, { now: NOW }), "not_found", "That lease does not exist.");
    await expectAppError(releaseLease(t.db, as(ben!), randomUUID(), { now: NOW }), "not_found");
    expect((await getLease(t.db, as(ann!), mine.id)).state).toBe("active");

    const released = await releaseLease(t.db, as(ann!), mine.id, { now: hoursAfter(NOW, 1) });
    expect(released).toMatchObject({ state: "released", endedAt: hoursAfter(NOW, 1).toISOString() });
    // Nothing runs between releasing and available yet, so the hosts are free at once.
    expect(released.hosts.map((h) => h.state)).toEqual(["available", "available"]);
    await expectAppError(releaseLease(t.db, as(ann!), mine.id, { now: NOW }), "conflict", "This lease has already been released.");

    const byAdmin = await releaseLease(t.db, w.adminActor, other.id, { now: NOW });
    expect(byAdmin.state).toBe("released");
    const events = (await getLease(t.db, as(ann!), other.id)).events;
    // The last before the staged end's stage events (end_stage).
    expect(events.filter((e) => e.kind !== "end_stage").at(-1)).toMatchObject({ kind: "released", message: `released by ${w.admin.email}: ${other.hosts[0]!.name}`, actorEmail: w.admin.email });
  });
});

describe("handing a lease over", () => {
  it("hands a whole lease to another member; the old holder then sees neither lease nor hosts", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 2 }, { now: NOW });
    const handed = await handOverLease(t.db, as(ann!), lease.id, { toEmail: ben!.email.toUpperCase() }, { now: hoursAfter(NOW, 1) });
    expect(handed).toMatchObject({ id: lease.id, userId: ben!.id, endsAt: lease.endsAt, state: "active" });
    expect(handed.hosts.map((h) => h.state)).toEqual(["leased", "leased"]);

    await expectAppError(getLease(t.db, as(ann!), lease.id), "not_found");
    expect((await listLeases(t.db, as(ann!), {})).data).toEqual([]);
    expect((await listHosts(t.db, as(ann!), {})).data).toEqual([]);
    await expectAppError(getHostDetail(t.db, as(ann!), lease.hosts[0]!.id), "not_found");
    await expectAppError(releaseLease(t.db, as(ann!), lease.id), "not_found");

    const seen = await getLease(t.db, as(ben!), lease.id);
    expect(seen.events.at(-1)).toMatchObject({ kind: "handed_over", message: `handed over from ${ann!.email} to ${ben!.email}` });
    expect((await listHosts(t.db, as(ben!), {})).pagination.total).toBe(2);
  });

  it("splits one host of several into a new lease with the same end", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 3, durationHours: 8 }, { now: NOW });
    const moved = lease.hosts[1]!;
    const at = hoursAfter(NOW, 2);

    const split = await handOverLease(t.db, as(ann!), lease.id, { toUserId: ben!.id, hostId: moved.id }, { now: at });
    expect(split.id).not.toBe(lease.id);
    expect(split).toMatchObject({ userId: ben!.id, startsAt: at.toISOString(), endsAt: lease.endsAt, projectId: lease.projectId, poolId: w.pool.id, state: "active" });
    expect(split.hosts).toEqual([{ id: moved.id, name: moved.name, state: "leased", releasedAt: null, access: null }]);

    const rest = await getLease(t.db, as(ann!), lease.id);
    expect(rest.hosts.filter((h) => !h.releasedAt).map((h) => h.id)).toEqual([lease.hosts[0]!.id, lease.hosts[2]!.id]);
    expect(rest.hosts.find((h) => h.id === moved.id)!.releasedAt).toBe(at.toISOString());
    expect(rest.events.at(-1)).toMatchObject({ kind: "handed_over", message: `${moved.name} handed over to ${ben!.email}` });

    // The host never left `leased`, the project still holds three, and each person sees their own.
    expect((await hostStates(t.db, [moved.id]))[moved.id]).toBe("leased");
    expect((await getProject(t.db, w.adminActor, w.projects[0]!.id)).usage.activeHosts).toBe(3);
    await expectAppError(getLease(t.db, as(ann!), split.id), "not_found");
    await expectAppError(getHostDetail(t.db, as(ann!), moved.id), "not_found");
    expect((await listHosts(t.db, as(ann!), {})).data.map((h) => h.name)).toEqual([lease.hosts[0]!.name, lease.hosts[2]!.name]);
    const detail = await getHostDetail(t.db, as(ben!), moved.id);
    expect(detail.host.lease).toMatchObject({ id: split.id, endsAt: lease.endsAt });
    expect(detail.leases.map((l) => l.leaseId)).toEqual([split.id]);
  });

  it("refuses a new holder named by id without revealing that person's email or name", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const [carl] = await insertActiveUsers(t.db, 1);
    await updateUser(t.db, carl!.id, { name: "Carl Outsider" });
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id }, { now: NOW });
    await updateUser(t.db, ben!.id, { name: "Ben Member", disabledAt: new Date() });

    // Not a member, a disabled member, no account at all: one answer, repeating only the id given.
    for (const id of [carl!.id, ben!.id, randomUUID()]) {
      const err = await expectAppError(
        handOverLease(t.db, as(ann!), lease.id, { toUserId: id }),
        "validation",
        `User ${id} is not an active member of this lease's project; only members can receive its machines.`,
      );
      expect(err.details?.fieldErrors).toEqual({ toUserId: [err.message] });
      for (const secret of [carl!.email, ben!.email, "Carl", "Ben"]) expect(JSON.stringify({ message: err.message, details: err.details })).not.toContain(secret);
    }
    await expectAppError(handOverLease(t.db, as(ann!), lease.id, { toUserId: ann!.id }), "validation", "That person already holds this lease.");
  });

  it("hands over only to active members of the lease's project", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const [carl] = await insertActiveUsers(t.db, 1);
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 2 }, { now: NOW });

    await expectAppError(
      handOverLease(t.db, as(ann!), lease.id, { toEmail: carl!.email }),
      "validation",
      `${carl!.email} is not a member of this lease's project; only members can receive its machines.`,
    );
    await expectAppError(handOverLease(t.db, as(ann!), lease.id, { toEmail: "nobody@lab.example" }), "validation", "No active Kiln account has that email.");
    await expectAppError(handOverLease(t.db, as(ann!), lease.id, { toEmail: ann!.email }), "validation", "That person already holds this lease.");
    await expectAppError(handOverLease(t.db, as(ann!), lease.id, { toEmail: ben!.email, hostId: randomUUID() }), "validation", "That host is not in this lease.");
    await expectAppError(handOverLease(t.db, as(ben!), lease.id, { toEmail: ben!.email }), "not_found");
    // A disabled member cannot receive machines either.
    await updateUser(t.db, ben!.id, { disabledAt: new Date() });
    await expectAppError(handOverLease(t.db, as(ann!), lease.id, { toEmail: ben!.email }), "validation", "No active Kiln account has that email.");

    const unchanged = await getLease(t.db, as(ann!), lease.id);
    expect(unchanged.userId).toBe(ann!.id);
    expect(unchanged.hosts.every((h) => h.releasedAt === null)).toBe(true);
  });
});

describe("listing and reading leases", () => {
  it("shows a researcher their own leases; everyone's only to admins, with filters", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 4, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const a1 = await createLease(t.db, as(ann!), { poolId: w.pool.id }, { now: NOW });
    const a2 = await createLease(t.db, as(ann!), { poolId: w.pool.id }, { now: NOW });
    const b1 = await createLease(t.db, as(ben!), { poolId: w.pool.id }, { now: NOW });
    await releaseLease(t.db, as(ann!), a1.id, { now: NOW });

    const annList = await listLeases(t.db, as(ann!), {});
    expect(annList.data.map((l) => l.id)).toEqual([a2.id, a1.id]); // active first
    expect(annList.pagination.total).toBe(2);
    await expectAppError(listLeases(t.db, as(ann!), { scope: "all" }), "forbidden", "Only administrators can list everyone's leases.");
    await expectAppError(getLease(t.db, as(ben!), a2.id), "not_found", "That lease does not exist.");

    const all = await listLeases(t.db, w.adminActor, { scope: "all", projectId: w.projects[0]!.id });
    expect(all.data.map((l) => l.id).sort()).toEqual([a1.id, a2.id, b1.id].sort());
    expect((await listLeases(t.db, w.adminActor, { scope: "all", userId: ben!.id })).data.map((l) => l.id)).toEqual([b1.id]);
    expect((await listLeases(t.db, w.adminActor, { scope: "all", projectId: w.projects[0]!.id, state: "released" })).data.map((l) => l.id)).toEqual([a1.id]);
    expect((await listLeases(t.db, w.adminActor, { scope: "all", hostId: b1.hosts[0]!.id })).data.map((l) => l.id)).toEqual([b1.id]);
    const page = await listLeases(t.db, w.adminActor, { scope: "all", projectId: w.projects[0]!.id, per_page: 2, page: 2 });
    expect(page).toMatchObject({ data: [expect.anything()], pagination: { page: 2, perPage: 2, total: 3 } });
  });

  it("reads any lease of a holder with a long history", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const first = await createLease(t.db, as(ann), { poolId: w.pool.id, durationHours: 1 }, { now: NOW });
    await releaseLease(t.db, as(ann), first.id, { now: NOW });
    // A CI account that leased a host every hour for two months.
    const now = Date.now();
    await insertLeases(
      t.db,
      Array.from({ length: 1500 }, (_, i) => {
        const startsAt = new Date(now - (1500 - i) * 3600_000);
        const endsAt = new Date(startsAt.getTime() + 3600_000);
        return { projectId: w.projects[0]!.id, userId: ann.id, poolId: w.pool.id, state: "expired" as const, startsAt, endsAt, endedAt: endsAt };
      }),
    );

    const read = await getLease(t.db, as(ann), first.id);
    expect(read).toMatchObject({ id: first.id, state: "released", hosts: [{ id: first.hosts[0]!.id }] });
    const again = await createLease(t.db, as(ann), { poolId: w.pool.id }, { now: NOW });
    expect(again.hosts[0]!.id).toBe(first.hosts[0]!.id);
    const host = await getHostRow(t.db, first.hosts[0]!.id);
    expect(host!.state).toBe("leased");
  });
});
