// Who holds a lease or a reservation and which project pays for it, and the length policy both
// obey: one set of rules (and refusals) for lib/leases and lib/reservations.
import { getMembership, listMemberships } from "@/db/queries/projects";
import { getUserById } from "@/db/queries/users";
import type { PoolRow, ProjectRow, UserRow } from "@/db/schema";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import { assertAdmin, type Actor } from "../access/actor";
import { getUserStatus } from "../users/user-view";

/** What is being charged, for the refusals' words. */
export type ChargedThing = "lease" | "reservation";

const VERB: Record<ChargedThing, string> = { lease: "lease hosts", reservation: "reserve hosts" };

export function hoursText(h: number): string {
  const r = Math.round(h * 10) / 10;
  return `${r} hour${r === 1 ? "" : "s"}`;
}

/** The holder: the caller, or (admins only) the active account named by `userId`. */
export async function resolveHolder(db: DbOrTx, actor: Actor, userId: string | undefined, what: ChargedThing = "lease"): Promise<UserRow> {
  if (!userId || userId === actor.user?.id) {
    if (!actor.user) throw new AppError("bad_request", `A ${what} needs a holder (userId).`);
    return actor.user;
  }
  assertAdmin(actor, `Only administrators ${VERB[what]} on someone else's behalf.`);
  const user = await getUserById(db, userId);
  if (!user) throw AppError.field("userId", "That user does not exist.");
  if (getUserStatus(user) !== "active") throw AppError.field("userId", `${user.email} is not an active account.`);
  return user;
}

/** The project charged: the one named (the holder must be a member), or the holder's only one. */
export async function resolveProject(db: DbOrTx, holder: UserRow, projectId: string | undefined, what: ChargedThing = "lease"): Promise<string> {
  if (projectId) {
    if (!(await getMembership(db, { projectId, userId: holder.id }))) {
      throw AppError.field("projectId", `${holder.email} is not a member of that project, so it cannot be charged for this ${what}.`);
    }
    return projectId;
  }
  const memberships = await listMemberships(db, holder.id);
  if (memberships.length === 1) return memberships[0]!.projectId;
  if (memberships.length === 0) {
    throw new AppError("forbidden", `${holder.email} is not a member of any project, and every ${what} is charged to one. Ask an administrator to add you to a project.`);
  }
  throw AppError.field("projectId", `Choose the project to charge: ${memberships.map((m) => m.name).join(", ")}.`);
}

/** The longest a lease (or reservation) may last here: the stricter of the pool's and the project's policy. */
export function maxLeaseHours(pool: PoolRow | undefined, project: ProjectRow): { hours: number | null; source: string } {
  const limits: { hours: number; source: string }[] = [];
  if (pool) limits.push({ hours: pool.maxLeaseHours, source: `Pool ${pool.name}` });
  if (project.maxLeaseHours !== null) limits.push({ hours: project.maxLeaseHours, source: `Project ${project.name}` });
  if (limits.length === 0) return { hours: null, source: "" };
  return limits.reduce((a, b) => (b.hours < a.hours ? b : a));
}
