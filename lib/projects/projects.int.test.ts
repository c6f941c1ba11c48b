// Projects through lib/: who manages membership, who sees what, quotas and usage, and
// that a project with leases on record cannot be deleted.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { actorOf } from "@/lib/access/actor";
import { createLease, releaseLease } from "@/lib/leases/leases";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { as, hoursAfter, insertActiveUsers, seedLeaseWorld, uniqueSuffix } from "@/test/harness/inventory";
import { addProjectMember, createProject, deleteProject, getMyProjects, getProject, listProjects, removeProjectMember, updateProject } from "./projects";

const t = await useTestDb();
const { user: admin } = await createActiveUser(t.db, { admin: true });
const A = actorOf(admin, { ip: "192.0.2.20", userAgent: "vitest" });

describe("projects", () => {
  it("lets admins create and update projects with quotas, and refuses duplicates and non-admins", async () => {
    const name = `astro-${uniqueSuffix()}`;
    const project = await createProject(t.db, A, { name, description: "telescope data", maxHosts: 4, maxNodeHoursPerMonth: 500 });
    expect(project).toMatchObject({ name, maxHosts: 4, maxLeaseHours: null, maxNodeHoursPerMonth: 500 });
    const dup = await expectAppError(createProject(t.db, A, { name }), "validation", `A project named ${name} already exists.`);
    expect(Object.keys(dup.details!.fieldErrors!)).toEqual(["name"]);
    await expectAppError(createProject(t.db, A, { name: `q-${uniqueSuffix()}`, maxHosts: -1 }), "validation");

    const updated = await updateProject(t.db, A, project.id, { maxHosts: null, maxLeaseHours: 24 });
    expect(updated).toMatchObject({ maxHosts: null, maxLeaseHours: 24, maxNodeHoursPerMonth: 500 });
    await expectAppError(updateProject(t.db, A, randomUUID(), { maxHosts: 1 }), "not_found", "That project does not exist.");

    const [user] = await insertActiveUsers(t.db, 1);
    await expectAppError(createProject(t.db, as(user!), { name: `x-${uniqueSuffix()}` }), "forbidden", "Only administrators can change projects.");
    await expectAppError(updateProject(t.db, as(user!), project.id, { maxHosts: 100 }), "forbidden");
  });

  it("lets a leader add members, but not a plain member; outsiders do not see the project", async () => {
    const project = await createProject(t.db, A, { name: `lab-${uniqueSuffix()}` });
    const [leader, member, newcomer, outsider] = await insertActiveUsers(t.db, 4);
    await addProjectMember(t.db, A, project.id, { email: leader!.email, role: "leader" });
    await addProjectMember(t.db, A, project.id, { userId: member!.id });

    expect(await addProjectMember(t.db, as(leader!), project.id, { email: newcomer!.email.toUpperCase() })).toEqual({ userId: newcomer!.id, email: newcomer!.email, role: "member" });
    await expectAppError(
      addProjectMember(t.db, as(member!), project.id, { email: outsider!.email }),
      "forbidden",
      "Only the project's leaders and administrators can add members.",
    );
    await expectAppError(addProjectMember(t.db, as(outsider!), project.id, { email: outsider!.email }), "not_found", "That project does not exist, or you are not a member.");
    await expectAppError(addProjectMember(t.db, as(leader!), project.id, { email: "nobody@lab.example" }), "validation", "No Kiln account has that email; the person must sign in or register once first.");
    await expectAppError(addProjectMember(t.db, as(leader!), project.id, {}), "validation", "Name the user by userId or email.");

    const seen = await getProject(t.db, as(member!), project.id);
    expect(seen.yourRole).toBe("member");
    expect(seen.members.map((m) => [m.email, m.role]).sort()).toEqual(
      [[leader!.email, "leader"], [member!.email, "member"], [newcomer!.email, "member"]].sort(),
    );
    expect((await getProject(t.db, A, project.id)).yourRole).toBe("admin");
    await expectAppError(getProject(t.db, as(outsider!), project.id), "not_found");
    expect((await listProjects(t.db, as(member!))).map((p) => p.id)).toEqual([project.id]);
    expect(await listProjects(t.db, as(outsider!))).toEqual([]);
    expect((await listProjects(t.db, A)).map((p) => p.id)).toContain(project.id);
    expect(await getMyProjects(t.db, newcomer!.id)).toEqual([{ projectId: project.id, role: "member", name: project.name }]);

    // Promoting is an upsert of the role; removing is for leaders and admins too.
    await addProjectMember(t.db, as(leader!), project.id, { userId: member!.id, role: "leader" });
    expect((await getProject(t.db, as(member!), project.id)).yourRole).toBe("leader");
    await expectAppError(removeProjectMember(t.db, as(newcomer!), project.id, member!.id), "forbidden", "Only the project's leaders and administrators can remove members.");
    await removeProjectMember(t.db, as(member!), project.id, newcomer!.id);
    await expectAppError(removeProjectMember(t.db, as(member!), project.id, newcomer!.id), "not_found", "That person is not a member of this project.");
    await expectAppError(getProject(t.db, as(newcomer!), project.id), "not_found");
  });

  it("reports hosts held and node-hours used this month", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3 });
    const ann = as(w.members[0]![0]!);
    // A fixed clock: usage counts the calendar month of `now`, whatever today's date is.
    const now = new Date("2026-03-31T23:00:00Z");
    const lease = await createLease(t.db, ann, { poolId: w.pool.id, count: 2, durationHours: 1 }, { now });
    expect((await getProject(t.db, ann, w.projects[0]!.id, { now })).usage).toMatchObject({ activeHosts: 2 });
    await releaseLease(t.db, ann, lease.id, { now: hoursAfter(now, 0.5) });
    const usage = (await getProject(t.db, ann, w.projects[0]!.id, { now: hoursAfter(now, 0.5) })).usage;
    expect(usage.activeHosts).toBe(0);
    // 2 hosts × 0.5 h, all inside March; April (an hour later) has none of it.
    expect(usage.nodeHoursThisMonth).toBeCloseTo(1, 5);
    expect((await getProject(t.db, ann, w.projects[0]!.id, { now: hoursAfter(now, 1.5) })).usage.nodeHoursThisMonth).toBe(0);
  });

  it("deletes a project without leases, and refuses one with leases on record (409)", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = as(w.members[0]![0]!);
    const lease = await createLease(t.db, ann, { poolId: w.pool.id });
    await releaseLease(t.db, ann, lease.id);
    const refused = await expectAppError(deleteProject(t.db, A, w.projects[0]!.id), "conflict", "This project has leases on record, which must be kept; it cannot be deleted.");
    expect(refused.status).toBe(409);
    expect((await getProject(t.db, A, w.projects[0]!.id)).members).toHaveLength(1);

    const empty = await createProject(t.db, A, { name: `empty-${uniqueSuffix()}` });
    await addProjectMember(t.db, A, empty.id, { userId: w.members[0]![0]!.id });
    await expectAppError(deleteProject(t.db, ann, empty.id), "forbidden");
    await deleteProject(t.db, A, empty.id);
    await expectAppError(getProject(t.db, A, empty.id), "not_found");
    await expectAppError(deleteProject(t.db, A, empty.id), "not_found");
  });
});
