// The Directory operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as directory from "../../validation/directory";
import type { ApiRoute } from "./api-route";

export const DIRECTORY_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/v1/directory/status", operationId: "getDirectoryStatus", tag: "Directory", auth: "admin",
    summary: "Whether the directory is configured and reachable",
    description: "Binds with KILN_DIRECTORY_BIND_DN and looks up KILN_DIRECTORY_PEOPLE_DN; `error` says what failed.",
    success: { status: 200, description: "The status.", schema: directory.directoryStatusSchema },
  },
  {
    method: "GET", path: "/api/v1/directory/entries", operationId: "listDirectoryEntries", tag: "Directory", auth: "admin",
    summary: "The directory entries Kiln manages",
    description: "One per active or disabled local account (and deleted ones until the entry is removed): uid, dn, origin (`created` by Kiln or `linked` by an admin), the desired state, whether the directory holds the latest change, and the last error. `refused`: an entry Kiln did not create is at the dn.",
    success: { status: 200, description: "`{ entries }`.", schema: directory.directoryEntryListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/directory/resync", operationId: "resyncDirectory", tag: "Directory", auth: "admin",
    summary: "Write every entry again",
    description: "Marks all entries for writing and queues the sync job; entries changed by hand in the directory are put back as Kiln has them. Entries Kiln did not create stay refused.",
    success: { status: 200, description: "`{ marked }`.", schema: directory.directoryResyncResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/directory/entries/{id}/link", operationId: "linkDirectoryEntry", tag: "Directory", auth: "admin", params: { id: "The entry's id (a UUID)." },
    summary: "Link an existing entry to its account",
    description: "For an entry Kiln refused because it was already in the directory: the administrator confirms it is this person's, and Kiln keeps it in step from then on (password, name, mail; its uidNumber, gidNumber and home stay as they were) and removes it when the account is deleted.",
    success: { status: 200, description: "The entry after linking.", schema: directory.directoryEntryViewSchema },
    errors: [{ status: 404, description: "No such entry." }, { status: 409, description: "Already linked, not an entry Kiln refused (Kiln's own entries are not linked), or the account was deleted." }],
  },
];
