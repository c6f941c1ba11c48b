// The Hosts operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as deployments from "../../validation/deployments";
import * as inventory from "../../validation/inventory";
import * as hostFacts from "../../validation/host-facts";
import * as power from "../../validation/power";
import { powerStatesQuerySchema } from "../../validation/power";
import { hostAcceptSchema, hostBulkSchema, hostCreateSchema, hostListQuerySchema, hostStateChangeSchema, hostUpdateSchema } from "../../validation/inventory";
import { hostImportSchema } from "../../validation/host-import";
import { HOST_ID, HOLDER_HOST_404, OK_TRUE, badRequest, conflict, created, notFound, ok, paged, tagRoutes } from "./shapes";

const HOST_404 = notFound("No such host, or (for a researcher) not a host they currently hold.");

export const HOST_ROUTES = tagRoutes("Hosts", [
  {
    method: "GET", path: "/api/v1/hosts", operationId: "listHosts", auth: "user",
    summary: "List hosts",
    description:
      "Administrators list every host; anyone else lists the hosts they hold. Filter by text (name, MAC, tag), state, pool (`none` for hosts outside any pool), site and tag, " +
      "and by hardware as a lease asks for it (minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps): a host with no facts yet (never commissioned) matches no hardware filter.",
    query: hostListQuerySchema,
    success: paged("A page of hosts, each with its active lease if any.", inventory.hostListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/hosts", operationId: "createHost", auth: "admin",
    summary: "Add a host",
    description: "The first interface boots by PXE unless another is marked. Power secrets are stored sealed and never returned.",
    body: hostCreateSchema,
    success: created("The new host.", inventory.hostViewSchema),
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}", operationId: "getHost", auth: "user", params: HOST_ID,
    summary: "A host with its lease history and events",
    description: "Administrators see everything; a researcher sees a host only while holding it, and only their own leases of it.",
    success: ok("`{ host, leases, events }`.", inventory.hostDetailResponseSchema),
    errors: [HOST_404],
  },
  {
    method: "PATCH", path: "/api/v1/hosts/{id}", operationId: "updateHost", auth: "admin", params: HOST_ID,
    summary: "Change a host",
    description: "Only the fields sent change. `interfaces` replaces the whole list; `power.secrets` left out keeps the stored ones, `{}` clears them. `siteId` moves the host to another site (audited as `host.site`).",
    body: hostUpdateSchema,
    success: ok("The host after the change.", inventory.hostViewSchema),
    errors: [HOST_404],
  },
  {
    method: "DELETE", path: "/api/v1/hosts/{id}", operationId: "deleteHost", auth: "admin", params: HOST_ID,
    summary: "Delete a host",
    success: OK_TRUE,
    errors: [HOST_404, conflict("The host is leased, or has lease history that must be kept (put it in maintenance instead).")],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/state", operationId: "changeHostState", auth: "admin", params: HOST_ID,
    summary: "Put a host in maintenance, mark it broken, or make it available",
    description: "`leased` and `releasing` are reached through leases only.",
    body: hostStateChangeSchema,
    success: ok("The host in its new state.", inventory.hostViewSchema),
    errors: [HOST_404, conflict("The transition is not allowed from the host's current state.")],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/accept", operationId: "acceptHost", auth: "admin", params: HOST_ID,
    summary: "Accept a discovered host",
    description: "new → available, optionally renamed and placed in a pool. The body may be left out.",
    body: hostAcceptSchema, bodyOptional: true,
    success: ok("The accepted host.", inventory.hostViewSchema),
    errors: [HOST_404, conflict("The host was already accepted.")],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/commission", operationId: "commissionHost", auth: "admin", params: HOST_ID,
    summary: "Commission a host: have it report its hardware",
    description:
      "Starts a commissioning run (docs/commissioning.md): Kiln powers the machine on from the network where its power driver can (manual power: someone restarts it), the deploy ramdisk reports CPU, memory, disks, NICs, DMI, firmware and the BMC's address, and the machine switches off. The report becomes the host's facts and a new version in `GET /api/v1/hosts/{id}/facts`. Only for a host nobody holds (new, available, maintenance, broken). Audited. No body.",
    success: created("The new run, as `GET /api/v1/deployments/{id}` answers it.", deployments.deploymentViewSchema),
    errors: [HOST_404, conflict("The host is leased or being released, has no MAC, or another run is active on it; nothing was started.")],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/facts", operationId: "listHostFacts", auth: "user", params: HOST_ID,
    summary: "A host's hardware fact versions and what changed",
    description: "Newest first (up to 10): each commissioning report, and each deploy's inventory that changed something, with what changed since the version before. For administrators and the host's holder; the current facts are in `GET /api/v1/hosts/{id}`.",
    success: ok("`{ data }`: the versions.", hostFacts.factVersionListResponseSchema),
    errors: [HOLDER_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/hosts/bulk", operationId: "bulkUpdateHosts", auth: "admin",
    summary: "Change many hosts at once",
    description: "Move to a pool (`poolId`, null for none), put in maintenance, make available, or accept. All or nothing.",
    body: hostBulkSchema,
    success: ok("`{ updated }`: how many hosts changed.", inventory.hostBulkResponseSchema),
    errors: [notFound("One of the hosts does not exist; nothing changed."), conflict("One of the hosts cannot make that transition; nothing changed.")],
  },
  {
    method: "POST", path: "/api/v1/hosts/import", operationId: "importHosts", auth: "admin",
    summary: "Import many hosts at once",
    description: "CSV text (`csv`, with a header line: name, macs, pool, site, tags, notes, state, power_driver, power_<parameter>) or JSON rows (`hosts`). Pools and sites are named. All or nothing; `dryRun` checks and previews without writing. CSV refuses secret columns (passwords): set them per host, or send JSON `power.secrets`. Body up to 8 MiB.",
    body: hostImportSchema,
    success: created("`{ count, imported, dryRun, preview }` (200 for a dry run).", inventory.hostImportResponseSchema),
    errors: [badRequest("Some rows have problems (`details.rowErrors`: row, line, message); nothing was imported."), conflict("A host with one of these names or MACs was added meanwhile; nothing was imported.")],
  },
  {
    method: "GET", path: "/api/v1/hosts/power", operationId: "listHostPower", auth: "user",
    summary: "Power states of several hosts (for a list)",
    description: "`ids`: comma-separated host ids, at most 500. Administrators get any host; anyone else the hosts they hold (others are left out).",
    query: powerStatesQuerySchema,
    success: ok("`{ data: [{ hostId, driver, state: on|off|unknown, message, checkedAt, changedAt, reportsState, canPowerOff, networkBoot }] }`.", power.powerListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/power/test", operationId: "testPowerSettings", auth: "admin", params: HOST_ID,
    summary: "Check a host's power settings",
    description: "Asks the driver for the power state and reports whether that worked, with the driver's log.",
    success: ok("`{ ok, driver, state, message, log }`.", power.powerTestResponseSchema),
    errors: [notFound("No such host.")],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/console", operationId: "openHostConsole", auth: "user", params: HOST_ID,
    summary: "A ticket for a held host's serial console",
    description: "One use, valid for a minute: open the WebSocket at `url` (on Kiln's own origin) within it. Lab QEMU machines and IPMI hosts (Serial-over-LAN) have a console; the holder and administrators may attach, and each attachment is audited. No body.",
    success: ok("`{ ticket, url, expiresAt, kind }`.", inventory.consoleTicketResponseSchema),
    errors: [HOLDER_HOST_404, conflict("This host's power driver offers no console.")],
  },
]);
