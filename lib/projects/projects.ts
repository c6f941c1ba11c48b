import { countActiveProjectHosts, deleteMember, deleteProjectRow, getMembership, getProjectRow, insertProject, listMembers, listMemberships, listProjectRows, projectNodeHours, updateProjectRow, upsertMember } from "@/db/queries/projects";
import { getUserByEmail, getUserById } from "@/db/queries/users";
import { isForeignKeyViolation, isUniqueViolation } from "@/db/errors";
import type { ProjectRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { nowOf, type Clock } from "../clock";
import { AppError } from "../errors";
import { assertAdmin, isAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { projectCreateSchema, projectMemberAddSchema, projectUpdateSchema } from "../validation/projects";
import { parseInput } from "../validation/parse";

/** The calendar month (UTC) that node-hour quotas count in. */
export function monthWindow(now: Date): { from: Date; to: Date } {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { from, to };
}

export async function getProjectUsage(db: DbOrTx, projectId: string, clock: Clock = {}) {
  const { from, to } = monthWindow(nowOf(clock));
  const [activeHosts, nodeHoursThisMonth] = await Promise.all([
    countActiveProjectHosts(db, projectId),
    projectNodeHours(db, { projectId, from, to }),
  ]);
  return { activeHosts, nodeHoursThisMonth: Math.round(nodeHoursThisMonth * 10) / 10 };
}

const ADMIN_ONLY = "Only administrators can change projects.";

function mapProjectError(e: unknown, name?: string): never {
  if (isUniqueViolation(e)) throw AppError.field("name", `A project named ${name} already exists.`);
  throw e;
}

/** Admins see every project; a researcher sees the projects they belong to. */
export async function listProjects(db: Db, actor: Actor, clock: Clock = {}) {
  const rows = await listProjectRows(db, { memberId: isAdmin(actor) ? undefined : actor.user!.id });
  return Promise.all(rows.map(async (p) => ({ ...p, usage: await getProjectUsage(db, p.id, clock) })));
}

/** A project the actor may see (member or admin); anyone else gets 404. */
export async function getVisibleProject(db: DbOrTx, actor: Actor, id: string): Promise<{ project: ProjectRow; role: "member" | "leader" | "admin" }> {
  const project = await getProjectRow(db, id);
  if (project) {
    if (isAdmin(actor)) return { project, role: "admin" };
    const m = await getMembership(db, { projectId: id, userId: actor.user!.id });
    if (m) return { project, role: m.role };
  }
  throw new AppError("not_found", "That project does not exist, or you are not a member.");
}

export async function getProject(db: Db, actor: Actor, id: string, clock: Clock = {}) {
  const { project, role } = await getVisibleProject(db, actor, id);
  return { ...project, yourRole: role, usage: await getProjectUsage(db, id, clock), members: await listMembers(db, id) };
}

export async function getMyProjects(db: Db, userId: string) {
  return listMemberships(db, userId);
}

export async function createProject(db: Db, actor: Actor, input: unknown) {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(projectCreateSchema, input);
  try {
    return await db.transaction(async (tx) => {
      const project = await insertProject(tx, data);
      await recordAudit(tx, actor, { action: "project.create", targetType: "project", targetId: project.id, summary: `created project ${project.name}`, data });
      return project;
    });
  } catch (e) {
    mapProjectError(e, data.name);
  }
}

export async function updateProject(db: Db, actor: Actor, id: string, input: unknown) {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(projectUpdateSchema, input);
  try {
    return await db.transaction(async (tx) => {
      const project = await updateProjectRow(tx, id, data);
      if (!project) throw new AppError("not_found", "That project does not exist.");
      await recordAudit(tx, actor, { action: "project.update", targetType: "project", targetId: id, summary: `updated project ${project.name}`, data });
      return project;
    });
  } catch (e) {
    mapProjectError(e, data.name);
  }
}

export async function deleteProject(db: Db, actor: Actor, id: string): Promise<void> {
  assertAdmin(actor, ADMIN_ONLY);
  try {
    await db.transaction(async (tx) => {
      const project = await getProjectRow(tx, id);
      if (!project) throw new AppError("not_found", "That project does not exist.");
      await deleteProjectRow(tx, id);
      await recordAudit(tx, actor, { action: "project.delete", targetType: "project", targetId: id, summary: `deleted project ${project.name}` });
    });
  } catch (e) {
    if (isForeignKeyViolation(e)) throw new AppError("conflict", "This project has leases on record, which must be kept; it cannot be deleted.");
    throw e;
  }
}

/** Admins manage membership; a project leader may add members (and make leaders) to their own project. */
export async function addProjectMember(db: Db, actor: Actor, projectId: string, input: unknown) {
  const data = parseInput(projectMemberAddSchema, input);
  return db.transaction(async (tx) => {
    const { project, role } = await getVisibleProject(tx, actor, projectId);
    if (role === "member") throw new AppError("forbidden", "Only the project's leaders and administrators can add members.");
    const user = data.userId ? await getUserById(tx, data.userId) : await getUserByEmail(tx, data.email!);
    // A deleted account (a tombstone kept for its history) is no one to add.
    if (!user || user.deletedAt) throw AppError.field("email", "No Kiln account has that email; the person must sign in or register once first.");
    await upsertMember(tx, { projectId, userId: user.id, role: data.role });
    await recordAudit(tx, actor, { action: "project.member.add", targetType: "project", targetId: projectId, summary: `added ${user.email} to ${project.name} as ${data.role}`, data: { userId: user.id, role: data.role } });
    return { userId: user.id, email: user.email, role: data.role };
  });
}

export async function removeProjectMember(db: Db, actor: Actor, projectId: string, userId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const { project, role } = await getVisibleProject(tx, actor, projectId);
    if (role === "member") throw new AppError("forbidden", "Only the project's leaders and administrators can remove members.");
    if (!(await deleteMember(tx, { projectId, userId }))) throw new AppError("not_found", "That person is not a member of this project.");
    await recordAudit(tx, actor, { action: "project.member.remove", targetType: "project", targetId: projectId, summary: `removed a member from ${project.name}`, data: { userId } });
  });
}
