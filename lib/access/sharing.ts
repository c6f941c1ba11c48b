// Who may read a shared thing (an image, a template): everyone when public, its owner, the
// members of its project when shared with one, and administrators.
import { getMembership } from "@/db/queries/projects";
import type { DbOrTx } from "../db";
import { isAdmin, type Actor } from "./actor";

export type Shared = { visibility: "private" | "project" | "public"; ownerUserId: string | null; projectId: string | null };

export async function canReadShared(db: DbOrTx, actor: Actor, item: Shared): Promise<boolean> {
  if (item.visibility === "public" || isAdmin(actor)) return true;
  if (!actor.user) return false;
  if (item.ownerUserId === actor.user.id) return true;
  return item.visibility === "project" && item.projectId !== null && Boolean(await getMembership(db, { projectId: item.projectId, userId: actor.user.id }));
}

/** Sharing into a project (or reading what it shares) takes membership; administrators need none. */
export async function isProjectMemberOrAdmin(db: DbOrTx, actor: Actor, projectId: string): Promise<boolean> {
  if (isAdmin(actor)) return true;
  return actor.user !== null && Boolean(await getMembership(db, { projectId, userId: actor.user.id }));
}
