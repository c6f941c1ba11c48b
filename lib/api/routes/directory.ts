// The Directory operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as directory from "../../validation/directory";
import { conflict, idParam, notFound, ok, tagRoutes } from "./shapes";

export const DIRECTORY_ROUTES = tagRoutes("Directory", [
  {
    method: "GET", path: "/api/v1/directory/status", operationId: "getDirectoryStatus", auth: "admin",
    summary: "Whether the directory is configured and reachable",
    description: "Binds with KILN_DIRECTORY_BIND_DN and looks up KILN_DIRECTORY_PEOPLE_DN; `error` says what failed.",
    success: ok("The status.", directory.directoryStatusSchema),
  },
  {
    method: "GET", path: "/api/v1/directory/entries", operationId: "listDirectoryEntries", auth: "admin",
    summary: "The directory entries Kiln manages",
    description: "One per active or disabled local account (and deleted ones until the entry is removed): uid, dn, origin (`created` by Kiln or `linked` by an admin), the desired state, whether the directory holds the latest change, and the last error. `refused`: an entry Kiln did not create is at the dn.",
    success: ok("`{ entries }`.", directory.directoryEntryListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/directory/resync", operationId: "resyncDirectory", auth: "admin",
    summary: "Write every entry again",
    description: "Marks all entries for writing and queues the sync job; entries changed by hand in the directory are put back as Kiln has them. Entries Kiln did not create stay refused.",
    success: ok("`{ marked }`.", directory.directoryResyncResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/directory/entries/{id}/link", operationId: "linkDirectoryEntry", auth: "admin", params: idParam("entry"),
    summary: "Link an existing entry to its account",
    description: "For an entry Kiln refused because it was already in the directory: the administrator confirms it is this person's, and Kiln keeps it in step from then on (password, name, mail; its uidNumber, gidNumber and home stay as they were) and removes it when the account is deleted.",
    success: ok("The entry after linking.", directory.directoryEntryViewSchema),
    errors: [notFound("No such entry."), conflict("Already linked, not an entry Kiln refused (Kiln's own entries are not linked), or the account was deleted.")],
  },
]);
