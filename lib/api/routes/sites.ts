// The Sites operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as sites from "../../validation/sites";
import { paginationSchema } from "../../validation/common";
import { siteCreateSchema, siteUpdateSchema } from "../../validation/sites";
import { OK_TRUE, conflict, created, idParam, notFound, ok, paged, tagRoutes } from "./shapes";

const SITE_ID = idParam("site");
const SITE_404 = notFound("No such site.");

export const SITE_ROUTES = tagRoutes("Sites", [
  {
    method: "GET", path: "/api/v1/sites", operationId: "listSites", auth: "admin",
    summary: "List sites",
    description: "Every site with its boot URL (null: machines use KILN_BOOT_URL) and its number of hosts.",
    query: paginationSchema,
    success: paged("A page of sites.", sites.siteListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/sites", operationId: "createSite", auth: "admin",
    summary: "Create a site",
    description: "A boot server started with `KILN_SITE=<name>` also creates its site if it is missing.",
    body: siteCreateSchema,
    success: created("The new site.", sites.siteViewSchema),
  },
  {
    method: "GET", path: "/api/v1/sites/{id}", operationId: "getSite", auth: "admin", params: SITE_ID,
    summary: "A site",
    success: ok("The site with its number of hosts.", sites.siteViewSchema),
    errors: [SITE_404],
  },
  {
    method: "PATCH", path: "/api/v1/sites/{id}", operationId: "updateSite", auth: "admin", params: SITE_ID,
    summary: "Rename a site, or set or clear its boot URL",
    description: "Runs already rendered keep the URL they were given; the site's next answers use the new one. `bootUrl: null` (or empty) falls back to KILN_BOOT_URL.",
    body: siteUpdateSchema,
    success: ok("The site after the change.", sites.siteViewSchema),
    errors: [SITE_404],
  },
  {
    method: "DELETE", path: "/api/v1/sites/{id}", operationId: "deleteSite", auth: "admin", params: SITE_ID,
    summary: "Delete an empty site",
    success: OK_TRUE,
    errors: [SITE_404, conflict("The site still has hosts, a boot server still serves it, or it is the default site.")],
  },
  {
    method: "GET", path: "/api/v1/boot-servers", operationId: "listBootServers", auth: "admin",
    summary: "List boot servers",
    description: "Every boot server that ever reported: its site, URL, status (`up`; `late` after 30 s without a heartbeat; `down` after 2 min; `stopped` after a clean shutdown), and its last interval's request rate, errors, share answered from memory and p99.",
    success: ok("`{ data: [...] }`.", sites.bootServerListResponseSchema),
  },
  {
    method: "DELETE", path: "/api/v1/boot-servers/{id}", operationId: "deleteBootServer", auth: "admin", params: idParam("boot server"),
    summary: "Forget a boot server that is stopped or down",
    success: OK_TRUE,
    errors: [notFound("No such boot server."), conflict("It is still running (a heartbeat within the last 2 minutes).")],
  },
]);
