import { DELETED_USER_LABEL } from "@/db/schema/users";
import type { UserRow } from "@/db/schema";

export { DELETED_USER_LABEL };

export type UserStatus = "active" | "disabled" | "deleted" | "pending_verification" | "pending_approval";

/**
 * The account state a person sees; derived from timestamps so it never disagrees with them.
 * "deleted" is a tombstone (lib/accounts/admin.ts deleteUserAsAdmin): everything that asks for
 * "active" refuses it, like a disabled account.
 */
export function getUserStatus(u: Pick<UserRow, "disabledAt" | "emailVerifiedAt" | "approvedAt"> & { deletedAt?: Date | null }): UserStatus {
  if (u.deletedAt) return "deleted";
  if (u.disabledAt) return "disabled";
  if (!u.emailVerifiedAt) return "pending_verification";
  if (!u.approvedAt) return "pending_approval";
  return "active";
}

export type PublicUser = {
  id: string;
  email: string;
  name: string;
  role: "user" | "admin";
  authSource: "local" | "ldap";
  ldapUsername: string | null;
  status: UserStatus;
  createdAt: string;
  lastSignInAt: string | null;
};

export function toPublicUser(u: UserRow): PublicUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    authSource: u.authSource,
    ldapUsername: u.ldapUsername,
    status: getUserStatus(u),
    createdAt: u.createdAt.toISOString(),
    lastSignInAt: u.lastSignInAt?.toISOString() ?? null,
  };
}
