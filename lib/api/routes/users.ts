// The Users operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as accounts from "../../validation/accounts";
import { userAdminUpdateSchema, userListQuerySchema } from "../../validation/accounts";
import type { ApiRoute } from "./api-route";

export const USER_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/v1/me", operationId: "getMe", tag: "Users", auth: "user",
    summary: "Who the caller is",
    description: "The caller's account, whether they came by session or token, and the projects they belong to with their role.",
    success: { status: 200, description: "`{ user, via, projects }`.", schema: accounts.meResponseSchema },
  },
  {
    method: "GET", path: "/api/v1/users", operationId: "searchUsers", tag: "Users", auth: "admin",
    summary: "List and search users",
    query: userListQuerySchema,
    success: { status: 200, description: "A page of users.", list: true, schema: accounts.userListResponseSchema },
  },
  {
    method: "PATCH", path: "/api/v1/users/{id}", operationId: "updateUser", tag: "Users", auth: "admin", params: { id: "The user's id (a UUID)." },
    summary: "Change a user's role, disable or enable them, or approve a pending registration",
    description: "Disabling ends the user's sessions at once; their tokens stop working.",
    body: userAdminUpdateSchema,
    success: { status: 200, description: "The user after the change.", schema: accounts.publicUserSchema },
    errors: [{ status: 404, description: "No such user." }, { status: 409, description: "The last active administrator cannot be demoted or disabled; nobody can disable themselves; a deleted account cannot be changed." }],
  },
  {
    method: "DELETE", path: "/api/v1/users/{id}", operationId: "deleteUser", tag: "Users", auth: "admin", params: { id: "The user's id (a UUID)." },
    summary: "Delete a user",
    description:
      "Their sessions, tokens, SSH keys, memberships and calendar feeds go with them, their VPN devices are revoked, and the directory entry Kiln wrote for them is removed; audit entries keep their email. Someone whose past leases or reservations name them is kept as a tombstone (`outcome: anonymised`): email, name and credentials scrubbed, status `deleted`, shown as \"Deleted user\" in that history, listed only with `filter=deleted`; their address can register again. Others are deleted for good (`outcome: deleted`).",
    success: { status: 200, description: "`{ ok: true, outcome }`.", schema: accounts.userDeleteResponseSchema },
    errors: [
      { status: 404, description: "No such user." },
      { status: 409, description: "Oneself, the last active administrator, someone holding leases or with reservations not yet over (release or cancel them first), or an account already deleted." },
    ],
  },
];
