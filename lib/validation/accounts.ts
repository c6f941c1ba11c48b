// One schema per contract: forms, route handlers, the CLI and tests all use these.
import { z } from "zod";
import { AUTH_SOURCES, PROJECT_ROLES, USER_ROLES } from "@/db/schema/enums";
import { paginatedResponseSchema, paginationSchema, timestampSchema } from "./common";

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export const emailSchema = z
  .string({ error: "Enter your email address." })
  .trim()
  .min(1, "Enter your email address.")
  .max(254, "That email address is too long.")
  .pipe(z.email("Enter a valid email address, like name@example.org."))
  .transform((e) => e.toLowerCase());

export const passwordSchema = z
  .string({ error: "Enter a password." })
  .min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters.`)
  .max(PASSWORD_MAX_LENGTH, `Use at most ${PASSWORD_MAX_LENGTH} characters.`)
  .refine((p) => new Set(p).size >= 4, "This password is too easy to guess: use more different characters.");

/** Forms ask for a new password twice; the API takes it once (a client checks its own typing). */
export const PASSWORD_MISMATCH_MESSAGE = "The two passwords do not match. Type the same password in both fields.";

export function passwordConfirmationError(password: string | undefined, confirmation: string | undefined): string | undefined {
  if (!confirmation) return "Type the password again to confirm it.";
  return password === confirmation ? undefined : PASSWORD_MISMATCH_MESSAGE;
}

const nameSchema = z.string().trim().max(100, "Use at most 100 characters.").default("");

export const registerSchema = z.object({
  email: emailSchema,
  name: nameSchema,
  password: passwordSchema,
});
export type RegisterInput = z.infer<typeof registerSchema>;

export const signInMethods = ["password", "ldap"] as const;
export const signInSchema = z.object({
  method: z.enum(signInMethods).default("password"),
  // An email for local accounts; an LDAP uid or mail for directory accounts.
  login: z.string().trim().min(1, "Enter your email or username.").max(254),
  password: z.string().min(1, "Enter your password.").max(PASSWORD_MAX_LENGTH),
});
export type SignInInput = z.infer<typeof signInSchema>;

export const resetRequestSchema = z.object({ email: emailSchema });

export const tokenParamSchema = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, "This link is not valid.");

/** The token of a mailed verification link; checked against the database, so only its size is limited here. */
export const verifyEmailSchema = z.object({ token: z.string().max(200) });

/** Whether a password change or reset also revokes the account's API tokens (sessions end either way). */
const revokeTokensSchema = z.boolean({ error: "revokeTokens must be true or false." }).default(false);

export const resetPasswordSchema = z.object({ token: tokenParamSchema, password: passwordSchema, revokeTokens: revokeTokensSchema });

export const firstAdminSchema = z.object({
  token: tokenParamSchema,
  email: emailSchema,
  name: nameSchema,
  password: passwordSchema,
});
export type FirstAdminInput = z.infer<typeof firstAdminSchema>;

export const changePasswordSchema = z.object({
  currentPassword: z.string().min(1, "Enter your current password."),
  newPassword: passwordSchema,
  revokeTokens: revokeTokensSchema,
});

export const profileUpdateSchema = z.object({ name: nameSchema });

export const sshKeyAddSchema = z.object({
  publicKey: z.string().trim().min(1, "Paste a public key, such as the contents of ~/.ssh/id_ed25519.pub.").max(16384),
});

export const apiTokenCreateSchema = z.object({
  name: z.string().trim().min(1, "Give the token a name.").max(100),
  expiresInDays: z.coerce.number().int().min(1).max(3650).optional(),
});

export const userAdminUpdateSchema = z.object({
  role: z.enum(USER_ROLES).optional(),
  disabled: z.boolean().optional(),
  approved: z.literal(true).optional(),
});

export const userListQuerySchema = paginationSchema.extend({
  q: z.string().trim().max(200).optional(),
  // "all" and the others leave deleted accounts (tombstones) out; "deleted" lists only them.
  filter: z.enum(["all", "admins", "disabled", "pending", "deleted"]).default("all"),
});

/** Field errors in the shape forms render: `{ field: ["message"] }`. */
export function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join(".") || "_form";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

// Responses (see ./common.ts).
const USER_STATUSES = ["active", "disabled", "deleted", "pending_verification", "pending_approval"] as const;
export const publicUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(USER_ROLES),
  authSource: z.enum(AUTH_SOURCES),
  ldapUsername: z.string().nullable(),
  status: z.enum(USER_STATUSES),
  createdAt: timestampSchema,
  lastSignInAt: timestampSchema.nullable(),
});
export const userListResponseSchema = paginatedResponseSchema(publicUserSchema);
/** deleted: the row is gone. anonymised: kept as a "Deleted user" tombstone for the leases and reservations naming it. */
export const userDeleteResponseSchema = z.object({ ok: z.literal(true), outcome: z.enum(["deleted", "anonymised"]) });
export const meResponseSchema = z.object({
  user: publicUserSchema,
  via: z.enum(["session", "token"]),
  projects: z.array(z.object({ projectId: z.string(), role: z.enum(PROJECT_ROLES), name: z.string() })),
});
export const apiTokenListResponseSchema = z.object({
  tokens: z.array(
    z.object({ id: z.string(), name: z.string(), prefix: z.string(), createdAt: timestampSchema, lastUsedAt: timestampSchema.nullable(), expiresAt: timestampSchema.nullable(), revokedAt: timestampSchema.nullable() }),
  ),
});
export const apiTokenCreatedSchema = z.object({ id: z.string(), name: z.string(), token: z.string().describe("Shown once; Kiln keeps only its hash."), expiresAt: timestampSchema.nullable() });
const sshKeyViewSchema = z.object({ id: z.string(), userId: z.string(), type: z.string(), publicKey: z.string(), comment: z.string(), fingerprint: z.string(), createdAt: timestampSchema });
export const sshKeyResponseSchema = sshKeyViewSchema;
export const sshKeyListResponseSchema = z.object({ keys: z.array(sshKeyViewSchema) });
export const passwordChangeResponseSchema = z.object({ ok: z.literal(true), endedSessions: z.number().int(), revokedTokens: z.number().int() });
export const passwordResetResponseSchema = z.object({ email: z.string(), endedSessions: z.number().int(), revokedTokens: z.number().int() });
export const registerResponseSchema = z.object({ email: z.string() });
export const verifyEmailResponseSchema = z.object({ email: z.string(), status: z.enum(USER_STATUSES) });
export const firstAdminResponseSchema = z.object({ id: z.string(), email: z.string() });
export const healthResponseSchema = z.object({ ok: z.boolean(), database: z.enum(["up", "down"]) });
