// Who acts, and whether they are an administrator: the one place that answers "may this actor
// do that" for the checks every domain shares. Pure (no database), so any lib/ module can use it
// without pulling in the audit log or the domains above it.
import type { UserRow } from "@/db/schema";
import { AppError } from "../errors";
import type { RequestContext } from "../http/context";

/** Who acts: a signed-in person, an anonymous visitor (registration), or the system (jobs, CLI). */
export type Actor = { user: UserRow | null; ip: string | null; isSystem?: true };

declare const ADMIN: unique symbol;
/** An actor whose admin rights were checked; only isAdmin/assertAdmin produce one, so a signature can ask for it. */
export type AdminActor = Actor & { readonly [ADMIN]: true };

export const SYSTEM: Actor = { user: null, ip: null, isSystem: true };

export function actorOf(user: UserRow | null, ctx: RequestContext | null): Actor {
  return { user, ip: ctx?.ip ?? null };
}

/** For a resolved user without an actor around it (the request guard, pages). */
export function isAdminUser(user: Pick<UserRow, "role"> | null): boolean {
  return user?.role === "admin";
}

/** The system acts with admin rights: jobs and the CLI are not refused what an administrator may do. */
export function isAdmin(actor: Actor): actor is AdminActor {
  return actor.isSystem === true || isAdminUser(actor.user);
}

/** 403 with the caller's own wording, so each domain keeps its message. */
export function assertAdmin(actor: Actor, message = "Only administrators can do this."): AdminActor {
  if (!isAdmin(actor)) throw new AppError("forbidden", message);
  return actor;
}

/**
 * Things that belong to one person (a lease, an image, a template, a reservation): the owner
 * and administrators may act on them. A missing owner (user deleted) leaves only administrators.
 */
export function isOwnerOrAdmin(actor: Actor, ownerUserId: string | null | undefined): boolean {
  return isAdmin(actor) || (actor.user !== null && ownerUserId === actor.user.id);
}
