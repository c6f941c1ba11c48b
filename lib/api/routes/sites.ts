// The Sites operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as common from "../../validation/common";
import * as sites from "../../validation/sites";
import { paginationSchema } from "../../validation/common";
import { siteCreateSchema, siteUpdateSchema } from "../../validation/sites";
import type { ApiResponse, ApiRoute } from "./api-route";

const SITE_ID = { id: "The site's id (a UUID)." };
const SITE_404: ApiResponse = { status: 404, description: "No such site." };

export const SITE_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/v1/sites", operationId: "listSites", tag: "Sites", auth: "admin",
    summary: "List sites",
    description: "Every site with its boot URL (null: machines use KILN_BOOT_URL) and its number of hosts.",
    query: paginationSchema,
    success: { status: 200, description: "A page of sites.", list: true, schema: sites.siteListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/sites", operationId: "createSite", tag: "Sites", auth: "admin",
    summary: "Create a site",
    description: "A boot server started with `KILN_SITE=<name>` also creates its site if it is missing.",
    body: siteCreateSchema,
    success: { status: 201, description: "The new site.", schema: sites.siteViewSchema },
  },
  {
    method: "GET", path: "/api/v1/sites/{id}", operationId: "getSite", tag: "Sites", auth: "admin", params: SITE_ID,
    summary: "A site",
    success: { status: 200, description: "The site with its number of hosts.", schema: sites.siteViewSchema },
    errors: [SITE_404],
  },
  {
    method: "PATCH", path: "/api/v1/sites/{id}", operationId: "updateSite", tag: "Sites", auth: "admin", params: SITE_ID,
    summary: "Rename a site, or set or clear its boot URL",
    description: "Runs already rendered keep the URL they were given; the site's next answers use the new one. `bootUrl: null` (or empty) falls back to KILN_BOOT_URL.",
    body: siteUpdateSchema,
    success: { status: 200, description: "The site after the change.", schema: sites.siteViewSchema },
    errors: [SITE_404],
  },
  {
    method: "DELETE", path: "/api/v1/sites/{id}", operationId: "deleteSite", tag: "Sites", auth: "admin", params: SITE_ID,
    summary: "Delete an empty site",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [SITE_404, { status: 409, description: "The site still has hosts, a boot server still serves it, or it is the default site." }],
  },
  {
    method: "GET", path: "/api/v1/boot-servers", operationId: "listBootServers", tag: "Sites", auth: "admin",
    summary: "List boot servers",
    description: "Every boot server that ever reported: its site, URL, status (`up`; `late` after 30 s without a heartbeat; `down` after 2 min; `stopped` after a clean shutdown), and its last interval's request rate, errors, share answered from memory and p99.",
    success: { status: 200, description: "`{ data: [...] }`.", schema: sites.bootServerListResponseSchema },
  },
  {
    method: "DELETE", path: "/api/v1/boot-servers/{id}", operationId: "deleteBootServer", tag: "Sites", auth: "admin", params: { id: "The boot server's id (a UUID)." },
    summary: "Forget a boot server that is stopped or down",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such boot server." }, { status: 409, description: "It is still running (a heartbeat within the last 2 minutes)." }],
  },
];
