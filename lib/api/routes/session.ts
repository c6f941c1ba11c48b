// The Session operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as accounts from "../../validation/accounts";
import * as common from "../../validation/common";
import { firstAdminSchema, registerSchema, resetPasswordSchema, resetRequestSchema, signInSchema, verifyEmailSchema } from "../../validation/accounts";
import { OK_TRUE, accepted, created, forbidden, gone, notFound, ok, tagRoutes, tooManyRequests, unauthorized } from "./shapes";

const LINK_INVALID = notFound("The link is not valid.");
const LINK_USED = gone("The link was already used, or has expired.");

export const SESSION_ROUTES = tagRoutes("Session", [
  {
    method: "POST", path: "/api/session", operationId: "signIn", auth: "public",
    summary: "Sign in (sets the session cookie)",
    description: "`method` is `password` (local account, by email) or `ldap` (directory account, by uid or mail). After a few failures per account, or per client address, each further attempt must wait longer (1 s, 2 s, 4 s …; at most a minute per account, 30 minutes per address).",
    body: signInSchema,
    success: ok("`{ ok: true }` and a session cookie.", common.okResponseSchema),
    errors: [unauthorized("Wrong login or password (the same answer whether or not the account exists)."), tooManyRequests("Too many failed attempts; Retry-After says when to try again.")],
  },
  {
    method: "DELETE", path: "/api/session", operationId: "signOut", auth: "public",
    summary: "Sign out (ends the session)",
    success: OK_TRUE,
  },
  {
    method: "POST", path: "/api/account/register", operationId: "register", auth: "public",
    summary: "Register an account",
    description: "Mails a verification link. Depending on KILN_REGISTRATION, an administrator may also have to approve the account.",
    body: registerSchema,
    success: accepted("Registration accepted; check the mail.", accounts.registerResponseSchema),
    errors: [forbidden("Registration is closed, or the email's domain is not allowed."), tooManyRequests("Too many registrations from this address.")],
  },
  {
    method: "POST", path: "/api/account/verify", operationId: "verifyEmail", auth: "public",
    summary: "Confirm an email address with the mailed link's token",
    body: verifyEmailSchema,
    success: ok("The account's status after verification.", accounts.verifyEmailResponseSchema),
    errors: [LINK_INVALID, LINK_USED],
  },
  {
    method: "POST", path: "/api/account/password-reset", operationId: "requestPasswordReset", auth: "public",
    summary: "Mail a password reset link",
    description: "The same answer whether or not the account exists.",
    body: resetRequestSchema,
    success: accepted("`{ ok: true }`.", common.okResponseSchema),
    errors: [tooManyRequests("Too many requests for this account or address.")],
  },
  {
    method: "POST", path: "/api/account/password-reset/confirm", operationId: "resetPassword", auth: "public",
    summary: "Set a new password with a reset link's token",
    description: "With `revokeTokens: true` every API token of the account is revoked too. A refused password (common, or containing the email) leaves the link usable.",
    body: resetPasswordSchema,
    success: ok("`{ email, endedSessions, revokedTokens }`; every session of the account ends.", accounts.passwordResetResponseSchema),
    errors: [LINK_INVALID, LINK_USED],
  },
  {
    method: "POST", path: "/api/account/setup", operationId: "createFirstAdmin", auth: "public",
    summary: "Create the first administrator with the one-time setup link printed at start",
    body: firstAdminSchema,
    success: created("The administrator account.", accounts.firstAdminResponseSchema),
    errors: [LINK_INVALID, gone("The link was already used, or an administrator already exists.")],
  },
]);
