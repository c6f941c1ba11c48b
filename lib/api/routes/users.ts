// The Users operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as accounts from "../../validation/accounts";
import { userAdminUpdateSchema, userListQuerySchema } from "../../validation/accounts";
import { conflict, idParam, notFound, ok, paged, tagRoutes } from "./shapes";

const USER_ID = idParam("user");
const USER_404 = notFound("No such user.");

export const USER_ROUTES = tagRoutes("Users", [
  {
    method: "GET", path: "/api/v1/me", operationId: "getMe", auth: "user",
    summary: "Who the caller is",
    description: "The caller's account, whether they came by session or token, and the projects they belong to with their role.",
    success: ok("`{ user, via, projects }`.", accounts.meResponseSchema),
  },
  {
    method: "GET", path: "/api/v1/users", operationId: "searchUsers", auth: "admin",
    summary: "List and search users",
    query: userListQuerySchema,
    success: paged("A page of users.", accounts.userListResponseSchema),
  },
  {
    method: "PATCH", path: "/api/v1/users/{id}", operationId: "updateUser", auth: "admin", params: USER_ID,
    summary: "Change a user's role, disable or enable them, or approve a pending registration",
    description: "Disabling ends the user's sessions at once; their tokens stop working.",
    body: userAdminUpdateSchema,
    success: ok("The user after the change.", accounts.publicUserSchema),
    errors: [USER_404, conflict("The last active administrator cannot be demoted or disabled; nobody can disable themselves; a deleted account cannot be changed.")],
  },
  {
    method: "DELETE", path: "/api/v1/users/{id}", operationId: "deleteUser", auth: "admin", params: USER_ID,
    summary: "Delete a user",
    description:
      "Their sessions, tokens, SSH keys, memberships and calendar feeds go with them, their VPN devices are revoked, and the directory entry Kiln wrote for them is removed; audit entries keep their email. Someone whose past leases or reservations name them is kept as a tombstone (`outcome: anonymised`): email, name and credentials scrubbed, status `deleted`, shown as \"Deleted user\" in that history, listed only with `filter=deleted`; their address can register again. Others are deleted for good (`outcome: deleted`).",
    success: ok("`{ ok: true, outcome }`.", accounts.userDeleteResponseSchema),
    errors: [
      USER_404,
      conflict("Oneself, the last active administrator, someone holding leases or with reservations not yet over (release or cancel them first), or an account already deleted."),
    ],
  },
]);
