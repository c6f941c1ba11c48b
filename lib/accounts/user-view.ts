import type { UserRow } from "@/db/schema";

export type UserStatus = "active" | "disabled" | "pending_verification" | "pending_approval";

/** The account state a person sees; derived from timestamps so it never disagrees with them. */
export function getUserStatus(u: Pick<UserRow, "disabledAt" | "emailVerifiedAt" | "approvedAt">): UserStatus {
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
