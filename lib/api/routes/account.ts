// The Account operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as accounts from "../../validation/accounts";
import * as common from "../../validation/common";
import { apiTokenCreateSchema, changePasswordSchema, profileUpdateSchema, sshKeyAddSchema } from "../../validation/accounts";
import type { ApiRoute } from "./api-route";

export const ACCOUNT_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/account/tokens", operationId: "listApiTokens", tag: "Account", auth: "user",
    summary: "The caller's personal access tokens",
    description: "Name, prefix, expiry, last use and revocation; never the token itself.",
    success: { status: 200, description: "`{ tokens }`.", schema: accounts.apiTokenListResponseSchema },
  },
  {
    method: "POST", path: "/api/account/tokens", operationId: "createApiToken", tag: "Account", auth: "user",
    summary: "Create a personal access token",
    description: "The token (`kiln_pat_…`) is in the answer once and never again. Send it as `Authorization: Bearer kiln_pat_…`; it acts as its owner, with the owner's role.",
    body: apiTokenCreateSchema,
    success: { status: 201, description: "`{ id, name, token, expiresAt }`.", schema: accounts.apiTokenCreatedSchema },
  },
  {
    method: "DELETE", path: "/api/account/tokens/{id}", operationId: "revokeApiToken", tag: "Account", auth: "user", params: { id: "The token's id (a UUID)." },
    summary: "Revoke one of the caller's tokens",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such token of the caller's, or already revoked." }],
  },
  {
    method: "GET", path: "/api/account/ssh-keys", operationId: "listSshKeys", tag: "Account", auth: "user",
    summary: "The caller's SSH public keys",
    success: { status: 200, description: "`{ keys }`.", schema: accounts.sshKeyListResponseSchema },
  },
  {
    method: "POST", path: "/api/account/ssh-keys", operationId: "addSshKey", tag: "Account", auth: "user",
    summary: "Add an SSH public key",
    description: "Installed on the machines the caller deploys.",
    body: sshKeyAddSchema,
    success: { status: 201, description: "The key with its fingerprint.", schema: accounts.sshKeyResponseSchema },
  },
  {
    method: "DELETE", path: "/api/account/ssh-keys/{id}", operationId: "removeSshKey", tag: "Account", auth: "user", params: { id: "The key's id (a UUID)." },
    summary: "Remove one of the caller's SSH keys",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such key of the caller's." }],
  },
  {
    method: "PATCH", path: "/api/account/profile", operationId: "updateProfile", tag: "Account", auth: "user",
    summary: "Change the caller's display name",
    body: profileUpdateSchema,
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
  },
  {
    method: "POST", path: "/api/account/password", operationId: "changePassword", tag: "Account", auth: "user",
    summary: "Change the caller's password",
    description: "Local accounts only. The caller's other sessions end; with `revokeTokens: true` every API token of the account is revoked too (the call's own, if it came with one). The new password may not be a common one or contain the account's email.",
    body: changePasswordSchema,
    success: { status: 200, description: "`{ ok: true, endedSessions, revokedTokens }`.", schema: accounts.passwordChangeResponseSchema },
  },
];
