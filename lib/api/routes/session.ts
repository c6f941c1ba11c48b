// The Session operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as accounts from "../../validation/accounts";
import * as common from "../../validation/common";
import { firstAdminSchema, registerSchema, resetPasswordSchema, resetRequestSchema, signInSchema, verifyEmailSchema } from "../../validation/accounts";
import type { ApiRoute } from "./api-route";

export const SESSION_ROUTES: ApiRoute[] = [
  {
    method: "POST", path: "/api/session", operationId: "signIn", tag: "Session", auth: "public",
    summary: "Sign in (sets the session cookie)",
    description: "`method` is `password` (local account, by email) or `ldap` (directory account, by uid or mail). After a few failures per account, or per client address, each further attempt must wait longer (1 s, 2 s, 4 s …; at most a minute per account, 30 minutes per address).",
    body: signInSchema,
    success: { status: 200, description: "`{ ok: true }` and a session cookie.", schema: common.okResponseSchema },
    errors: [{ status: 401, description: "Wrong login or password (the same answer whether or not the account exists)." }, { status: 429, description: "Too many failed attempts; Retry-After says when to try again." }],
  },
  {
    method: "DELETE", path: "/api/session", operationId: "signOut", tag: "Session", auth: "public",
    summary: "Sign out (ends the session)",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
  },
  {
    method: "POST", path: "/api/account/register", operationId: "register", tag: "Session", auth: "public",
    summary: "Register an account",
    description: "Mails a verification link. Depending on KILN_REGISTRATION, an administrator may also have to approve the account.",
    body: registerSchema,
    success: { status: 202, description: "Registration accepted; check the mail.", schema: accounts.registerResponseSchema },
    errors: [{ status: 403, description: "Registration is closed, or the email's domain is not allowed." }, { status: 429, description: "Too many registrations from this address." }],
  },
  {
    method: "POST", path: "/api/account/verify", operationId: "verifyEmail", tag: "Session", auth: "public",
    summary: "Confirm an email address with the mailed link's token",
    body: verifyEmailSchema,
    success: { status: 200, description: "The account's status after verification.", schema: accounts.verifyEmailResponseSchema },
    errors: [{ status: 404, description: "The link is not valid." }, { status: 410, description: "The link was already used, or has expired." }],
  },
  {
    method: "POST", path: "/api/account/password-reset", operationId: "requestPasswordReset", tag: "Session", auth: "public",
    summary: "Mail a password reset link",
    description: "The same answer whether or not the account exists.",
    body: resetRequestSchema,
    success: { status: 202, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 429, description: "Too many requests for this account or address." }],
  },
  {
    method: "POST", path: "/api/account/password-reset/confirm", operationId: "resetPassword", tag: "Session", auth: "public",
    summary: "Set a new password with a reset link's token",
    description: "With `revokeTokens: true` every API token of the account is revoked too. A refused password (common, or containing the email) leaves the link usable.",
    body: resetPasswordSchema,
    success: { status: 200, description: "`{ email, endedSessions, revokedTokens }`; every session of the account ends.", schema: accounts.passwordResetResponseSchema },
    errors: [{ status: 404, description: "The link is not valid." }, { status: 410, description: "The link was already used, or has expired." }],
  },
  {
    method: "POST", path: "/api/account/setup", operationId: "createFirstAdmin", tag: "Session", auth: "public",
    summary: "Create the first administrator with the one-time setup link printed at start",
    body: firstAdminSchema,
    success: { status: 201, description: "The administrator account.", schema: accounts.firstAdminResponseSchema },
    errors: [{ status: 404, description: "The link is not valid." }, { status: 410, description: "The link was already used, or an administrator already exists." }],
  },
];
