// The Account operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as accounts from "../../validation/accounts";
import { apiTokenCreateSchema, changePasswordSchema, profileUpdateSchema, sshKeyAddSchema } from "../../validation/accounts";
import { OK_TRUE, created, idParam, notFound, ok, tagRoutes } from "./shapes";

export const ACCOUNT_ROUTES = tagRoutes("Account", [
  {
    method: "GET", path: "/api/account/tokens", operationId: "listApiTokens", auth: "user",
    summary: "The caller's personal access tokens",
    description: "Name, prefix, expiry, last use and revocation; never the token itself.",
    success: ok("`{ tokens }`.", accounts.apiTokenListResponseSchema),
  },
  {
    method: "POST", path: "/api/account/tokens", operationId: "createApiToken", auth: "user",
    summary: "Create a personal access token",
    description: "The token (`kiln_pat_…`) is in the answer once and never again. Send it as `Authorization: Bearer kiln_pat_…`; it acts as its owner, with the owner's role.",
    body: apiTokenCreateSchema,
    success: created("`{ id, name, token, expiresAt }`.", accounts.apiTokenCreatedSchema),
  },
  {
    method: "DELETE", path: "/api/account/tokens/{id}", operationId: "revokeApiToken", auth: "user", params: idParam("token"),
    summary: "Revoke one of the caller's tokens",
    success: OK_TRUE,
    errors: [notFound("No such token of the caller's, or already revoked.")],
  },
  {
    method: "GET", path: "/api/account/ssh-keys", operationId: "listSshKeys", auth: "user",
    summary: "The caller's SSH public keys",
    success: ok("`{ keys }`.", accounts.sshKeyListResponseSchema),
  },
  {
    method: "POST", path: "/api/account/ssh-keys", operationId: "addSshKey", auth: "user",
    summary: "Add an SSH public key",
    description: "Installed on the machines the caller deploys.",
    body: sshKeyAddSchema,
    success: created("The key with its fingerprint.", accounts.sshKeyResponseSchema),
  },
  {
    method: "DELETE", path: "/api/account/ssh-keys/{id}", operationId: "removeSshKey", auth: "user", params: idParam("key"),
    summary: "Remove one of the caller's SSH keys",
    success: OK_TRUE,
    errors: [notFound("No such key of the caller's.")],
  },
  {
    method: "PATCH", path: "/api/account/profile", operationId: "updateProfile", auth: "user",
    summary: "Change the caller's display name",
    body: profileUpdateSchema,
    success: OK_TRUE,
  },
  {
    method: "POST", path: "/api/account/password", operationId: "changePassword", auth: "user",
    summary: "Change the caller's password",
    description: "Local accounts only. The caller's other sessions end; with `revokeTokens: true` every API token of the account is revoked too (the call's own, if it came with one). The new password may not be a common one or contain the account's email.",
    body: changePasswordSchema,
    success: ok("`{ ok: true, endedSessions, revokedTokens }`.", accounts.passwordChangeResponseSchema),
  },
]);
