// The registry the OpenAPI document is built from: one entry per method of every route file
// under app/api (lib/api/openapi.test.ts fails when a handler is missing here, or an entry
// names a handler that does not exist). Request shapes are the very zod schemas the handlers
// and lib/ functions parse with, so the document cannot drift from what is accepted.
import { z } from "zod";
// Response contracts: each operation's answer, beside the input schemas of its domain.
import * as accounts from "../validation/accounts";
import * as common from "../validation/common";
import * as deployments from "../validation/deployments";
import * as deploymentGroups from "../validation/deployment-groups";
import * as images from "../validation/images";
import * as inventory from "../validation/inventory";
import * as hostFacts from "../validation/host-facts";
import * as power from "../validation/power";
import * as sites from "../validation/sites";
import * as templates from "../validation/templates";
import * as calendar from "../validation/calendar";
import * as reservations from "../validation/reservations";
import * as directory from "../validation/directory";
import { deploymentGetQuerySchema, deploymentListQuerySchema, deploymentStartSchema } from "../validation/deployments";
import * as records from "../validation/records";
import { disklessCaptureResponseSchema, disklessCaptureSchema, disklessRootResponseSchema } from "../validation/diskless";
import { powerActionSchema, powerStatesQuerySchema } from "../validation/power";
import {
  apiTokenCreateSchema,
  changePasswordSchema,
  firstAdminSchema,
  profileUpdateSchema,
  registerSchema,
  resetPasswordSchema,
  resetRequestSchema,
  signInSchema,
  sshKeyAddSchema,
  userAdminUpdateSchema,
  userListQuerySchema,
  verifyEmailSchema,
} from "../validation/accounts";
import { paginationSchema } from "../validation/common";
import {
  auditListQuerySchema,
  hostAcceptSchema,
  hostBulkSchema,
  hostCreateSchema,
  hostListQuerySchema,
  hostStateChangeSchema,
  hostUpdateSchema,
  leaseCreateSchema,
  leaseExtendSchema,
  leaseHandOverSchema,
  leaseListQuerySchema,
  poolCreateSchema,
  poolUpdateSchema,
  projectCreateSchema,
  projectMemberAddSchema,
  projectUpdateSchema,
} from "../validation/inventory";
import { siteCreateSchema, siteUpdateSchema } from "../validation/sites";
import { hostImportSchema } from "../validation/host-import";
import { imageCreateSchema, imageListQuerySchema, imageUpdateSchema, imageVersionUpdateSchema } from "../validation/images";
import {
  bootSettingsSchema,
  hostVarsSchema,
  previewSchema,
  templateCreateSchema,
  templateDiffQuerySchema,
  templateGetQuerySchema,
  templateListQuerySchema,
  templateUpdateSchema,
  templateVersionCreateSchema,
} from "../validation/templates";
import { leaseCaptureSchema } from "../validation/lease-end";
import * as vpn from "../validation/vpn";
import * as extraDisks from "../validation/extra-disks";

export const API_TAGS = [
  { name: "Hosts", description: "The machines: inventory, state and history. Researchers see the hosts they hold; administrators see and change all." },
  { name: "Pools", description: "Groups of hosts with a lease policy (default and maximum duration). Everyone leases from them; administrators manage them." },
  { name: "Sites", description: "Where hosts are and which boot server answers them: each site has a boot URL its machines are told to use, and one or more boot servers reporting a heartbeat. Administrators only." },
  { name: "Projects", description: "Leases are charged to a project, which may cap hosts at once, lease length and node-hours per month." },
  { name: "Leases", description: "A bounded claim on hosts. Grants are all-or-nothing and race-free." },
  { name: "Reservations", description: "Hosts booked ahead: N hosts of a pool from a start to an end, admitted only if capacity and the project's quotas hold at every moment; the hosts are chosen at admission, become a lease at the start (earlier, to deploy what it names ready at the start), and are re-chosen if one fails before. Maintenance windows (administrators) take a pool or a host out of service for a time." },
  { name: "Calendar", description: "Who holds a pool's hosts when (leases, reservations, maintenance), and ICS feeds of one's own bookings or of a pool's for calendar clients." },
  { name: "Templates", description: "iPXE boot scripts and unattended-install files (preseed, kickstart, cloud-init) as versioned data; private, shared with a project, or public." },
  { name: "Images", description: "OS disk images with numbered versions (`latest` = the newest ready one). Bytes arrive through the tus endpoint `/api/uploads` and leave through `/images/{id}/versions/{version}/blob`; see the README." },
  { name: "Network boot", description: "What a held host boots next: its templates and variables, and marks for reinstall." },
  { name: "Provisioning", description: "Runs that reinstall, deploy an image to, capture or wipe a held host: steps with deadlines and reasons, progress, logs, a live feed, cancel and retry." },
  { name: "Records", description: "The experiment record of each install or image deploy a holder starts: image version and sha256, template versions and the sha256 of what was rendered, vars, kernel command line, the machine's facts; exportable as JSON at a permanent URL, publishable, re-runnable." },
  { name: "Lab access", description: "WireGuard devices into the machines' network: each device has a key pair (made in the browser, pasted, or made by Kiln with the private key shown once) and a tunnel address; a wg-quick file per device; revoke per device. Active accounts only; 404 when WireGuard is not configured on this Kiln. An OpenVPN profile where the lab runs OpenVPN with the directory." },
  { name: "Audit", description: "Every change, written in the same transaction as the change." },
  { name: "Users", description: "Who you are; administrators manage accounts." },
  { name: "Directory", description: "The entries Kiln writes in the lab's directory (LDAP) for active local accounts: their status, a re-sync, and linking an entry that was there before Kiln. Administrators only; docs/lab-access.md." },
  { name: "Account", description: "The caller's own profile, SSH keys and personal access tokens." },
  { name: "Session", description: "Browser sign-in, registration, email verification and password reset (cookies; scripts use a token instead)." },
  { name: "VPN gateway", description: "What the lab's WireGuard gateway pulls: its peers and its nftables forwarding rules, rendered from the people's devices and (when access follows leases) the machines they hold. Read with the gateway's own token (`Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`), never a person's; docs/lab-access.md describes the gateway's setup." },
  { name: "System", description: "Health and this document." },
] as const;

export type ApiTag = (typeof API_TAGS)[number]["name"];

/** public: no credentials; user: any signed-in account or its token; admin: administrators only. */
export type ApiAuth = "public" | "user" | "admin";

export type ApiResponse = { status: number; description: string };

export type ApiRoute = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** OpenAPI form of the file path: app/api/v1/hosts/[id]/route.ts → /api/v1/hosts/{id}. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: ApiTag;
  auth: ApiAuth;
  /** Path parameters and what they name. */
  params?: Record<string, string>;
  query?: z.ZodType;
  body?: z.ZodType;
  /** An action whose body may be left out entirely (it then means `{}`). */
  bodyOptional?: boolean;
  /** `schema`: the answer's zod contract (lib/validation), which the document shows as the response body. */
  success: ApiResponse & { list?: boolean; schema?: z.ZodType; contentType?: string };
  /** Refusals particular to this operation; 401/403/400/413 follow from auth, query and body. */
  errors?: ApiResponse[];
};

/** The live feed's body: Server-Sent Events, `id:`, `event:` and `data:` (JSON) lines. */
const EVENT_STREAM = z.string().describe("text/event-stream");
const OPENAPI_DOCUMENT = z.object({ openapi: z.literal("3.1.0"), info: common.recordSchema, paths: common.recordSchema, components: common.recordSchema });

const HOST_ID = { id: "The host's id (a UUID)." };
const POOL_ID = { id: "The pool's id (a UUID)." };
const PROJECT_ID = { id: "The project's id (a UUID)." };
const SITE_ID = { id: "The site's id (a UUID)." };
const SITE_404: ApiResponse = { status: 404, description: "No such site." };
const LEASE_ID = { id: "The lease's id (a UUID)." };

const TEMPLATE_ID = { id: "The template's id (a UUID)." };
const TEMPLATE_404: ApiResponse = { status: 404, description: "No such template, or one the caller may not see (private templates are not acknowledged)." };
const IMAGE_ID = { id: "The image's id (a UUID)." };
const IMAGE_VERSION = { id: "The image's id (a UUID).", version: "A version number, or `latest` (the newest ready version)." };
const IMAGE_404: ApiResponse = { status: 404, description: "No such image (or version), or one the caller may not see (private images are not acknowledged)." };
const IMAGE_403: ApiResponse = { status: 403, description: "The caller may see the image but only its owner (or an administrator) changes it." };
const DEPLOYMENT_ID = { id: "The run's id (a UUID)." };
const DEPLOYMENT_404: ApiResponse = { status: 404, description: "No such run, or one of a host the caller does not hold." };
const GROUP_ID = { id: "The deployment group's id (a UUID)." };
const GROUP_404: ApiResponse = { status: 404, description: "No such deployment group, or one of a lease the caller does not hold." };
const VPN_DEVICE_ID = { id: "The device's id (a UUID)." };
const VPN_404: ApiResponse = { status: 404, description: "WireGuard is not set up on this Kiln (KILN_VPN_ENDPOINT and KILN_VPN_SERVER_PUBLIC_KEY unset)." };
const VPN_REVOKED = z.object({ ok: z.literal(true), revokedAt: common.timestampSchema });
const HOLDER_HOST_404: ApiResponse = { status: 404, description: "No such host, or not one the caller holds." };
const HOST_404: ApiResponse = { status: 404, description: "No such host, or (for a researcher) not a host they currently hold." };
const LEASE_404: ApiResponse = { status: 404, description: "No such lease, or not the caller's." };
const PROJECT_404: ApiResponse = { status: 404, description: "No such project, or the caller is not a member." };
const RECORD_ID = { id: "The run record's id (a UUID): its permanent id." };
const RECORD_404: ApiResponse = { status: 404, description: "No such record, or one the caller may not read (unpublished records of other projects are not acknowledged)." };

export const API_ROUTES: ApiRoute[] = [
  // Hosts
  {
    method: "GET", path: "/api/v1/hosts", operationId: "listHosts", tag: "Hosts", auth: "user",
    summary: "List hosts",
    description:
      "Administrators list every host; anyone else lists the hosts they hold. Filter by text (name, MAC, tag), state, pool (`none` for hosts outside any pool), site and tag, " +
      "and by hardware as a lease asks for it (minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps): a host with no facts yet (never commissioned) matches no hardware filter.",
    query: hostListQuerySchema,
    success: { status: 200, description: "A page of hosts, each with its active lease if any.", list: true, schema: inventory.hostListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/hosts", operationId: "createHost", tag: "Hosts", auth: "admin",
    summary: "Add a host",
    description: "The first interface boots by PXE unless another is marked. Power secrets are stored sealed and never returned.",
    body: hostCreateSchema,
    success: { status: 201, description: "The new host.", schema: inventory.hostViewSchema },
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}", operationId: "getHost", tag: "Hosts", auth: "user", params: HOST_ID,
    summary: "A host with its lease history and events",
    description: "Administrators see everything; a researcher sees a host only while holding it, and only their own leases of it.",
    success: { status: 200, description: "`{ host, leases, events }`.", schema: inventory.hostDetailResponseSchema },
    errors: [HOST_404],
  },
  {
    method: "PATCH", path: "/api/v1/hosts/{id}", operationId: "updateHost", tag: "Hosts", auth: "admin", params: HOST_ID,
    summary: "Change a host",
    description: "Only the fields sent change. `interfaces` replaces the whole list; `power.secrets` left out keeps the stored ones, `{}` clears them. `siteId` moves the host to another site (audited as `host.site`).",
    body: hostUpdateSchema,
    success: { status: 200, description: "The host after the change.", schema: inventory.hostViewSchema },
    errors: [HOST_404],
  },
  {
    method: "DELETE", path: "/api/v1/hosts/{id}", operationId: "deleteHost", tag: "Hosts", auth: "admin", params: HOST_ID,
    summary: "Delete a host",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [HOST_404, { status: 409, description: "The host is leased, or has lease history that must be kept (put it in maintenance instead)." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/state", operationId: "changeHostState", tag: "Hosts", auth: "admin", params: HOST_ID,
    summary: "Put a host in maintenance, mark it broken, or make it available",
    description: "`leased` and `releasing` are reached through leases only.",
    body: hostStateChangeSchema,
    success: { status: 200, description: "The host in its new state.", schema: inventory.hostViewSchema },
    errors: [HOST_404, { status: 409, description: "The transition is not allowed from the host's current state." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/accept", operationId: "acceptHost", tag: "Hosts", auth: "admin", params: HOST_ID,
    summary: "Accept a discovered host",
    description: "new → available, optionally renamed and placed in a pool. The body may be left out.",
    body: hostAcceptSchema, bodyOptional: true,
    success: { status: 200, description: "The accepted host.", schema: inventory.hostViewSchema },
    errors: [HOST_404, { status: 409, description: "The host was already accepted." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/commission", operationId: "commissionHost", tag: "Hosts", auth: "admin", params: HOST_ID,
    summary: "Commission a host: have it report its hardware",
    description:
      "Starts a commissioning run (docs/commissioning.md): Kiln powers the machine on from the network where its power driver can (manual power: someone restarts it), the deploy ramdisk reports CPU, memory, disks, NICs, DMI, firmware and the BMC's address, and the machine switches off. The report becomes the host's facts and a new version in `GET /api/v1/hosts/{id}/facts`. Only for a host nobody holds (new, available, maintenance, broken). Audited. No body.",
    success: { status: 201, description: "The new run, as `GET /api/v1/deployments/{id}` answers it.", schema: deployments.deploymentViewSchema },
    errors: [HOST_404, { status: 409, description: "The host is leased or being released, has no MAC, or another run is active on it; nothing was started." }],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/facts", operationId: "listHostFacts", tag: "Hosts", auth: "user", params: HOST_ID,
    summary: "A host's hardware fact versions and what changed",
    description: "Newest first (up to 10): each commissioning report, and each deploy's inventory that changed something, with what changed since the version before. For administrators and the host's holder; the current facts are in `GET /api/v1/hosts/{id}`.",
    success: { status: 200, description: "`{ data }`: the versions.", schema: hostFacts.factVersionListResponseSchema },
    errors: [HOLDER_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/hosts/bulk", operationId: "bulkUpdateHosts", tag: "Hosts", auth: "admin",
    summary: "Change many hosts at once",
    description: "Move to a pool (`poolId`, null for none), put in maintenance, make available, or accept. All or nothing.",
    body: hostBulkSchema,
    success: { status: 200, description: "`{ updated }`: how many hosts changed.", schema: inventory.hostBulkResponseSchema },
    errors: [{ status: 404, description: "One of the hosts does not exist; nothing changed." }, { status: 409, description: "One of the hosts cannot make that transition; nothing changed." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/import", operationId: "importHosts", tag: "Hosts", auth: "admin",
    summary: "Import many hosts at once",
    description: "CSV text (`csv`, with a header line: name, macs, pool, site, tags, notes, state, power_driver, power_<parameter>) or JSON rows (`hosts`). Pools and sites are named. All or nothing; `dryRun` checks and previews without writing. CSV refuses secret columns (passwords): set them per host, or send JSON `power.secrets`. Body up to 8 MiB.",
    body: hostImportSchema,
    success: { status: 201, description: "`{ count, imported, dryRun, preview }` (200 for a dry run).", schema: inventory.hostImportResponseSchema },
    errors: [{ status: 400, description: "Some rows have problems (`details.rowErrors`: row, line, message); nothing was imported." }, { status: 409, description: "A host with one of these names or MACs was added meanwhile; nothing was imported." }],
  },

  // Pools
  {
    method: "GET", path: "/api/v1/pools", operationId: "listPools", tag: "Pools", auth: "user",
    summary: "List pools",
    description: "Every pool with its policy, its number of hosts and how many are available now.",
    query: paginationSchema,
    success: { status: 200, description: "A page of pools.", list: true, schema: inventory.poolListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/pools", operationId: "createPool", tag: "Pools", auth: "admin",
    summary: "Create a pool",
    body: poolCreateSchema,
    success: { status: 201, description: "The new pool.", schema: inventory.poolViewSchema },
  },
  {
    method: "GET", path: "/api/v1/pools/{id}", operationId: "getPool", tag: "Pools", auth: "user", params: POOL_ID,
    summary: "A pool",
    success: { status: 200, description: "The pool with its number of hosts.", schema: inventory.poolWithCountSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },
  {
    method: "GET", path: "/api/v1/pools/{id}/matches", operationId: "getPoolMatches", tag: "Pools", auth: "user", params: POOL_ID,
    summary: "How many free hosts of a pool meet hardware criteria",
    description:
      "The criteria of a lease (tags, minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps): how many hosts are free now, how many meet them all, " +
      "how many meet each on its own, and how many have no hardware facts yet. The lease dialog shows it as you type. A count, not a reservation.",
    query: inventory.poolMatchQuerySchema,
    success: { status: 200, description: "`{ free, matching, withoutFacts, criteria }`.", schema: inventory.poolMatchResponseSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },
  {
    method: "PATCH", path: "/api/v1/pools/{id}", operationId: "updatePool", tag: "Pools", auth: "admin", params: POOL_ID,
    summary: "Change a pool's name, description or lease policy",
    body: poolUpdateSchema,
    success: { status: 200, description: "The pool after the change.", schema: inventory.poolViewSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },
  {
    method: "DELETE", path: "/api/v1/pools/{id}", operationId: "deletePool", tag: "Pools", auth: "admin", params: POOL_ID,
    summary: "Delete a pool",
    description: "Its hosts stay, outside any pool.",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },

  // Calendar
  {
    method: "GET", path: "/api/v1/pools/{id}/timeline", operationId: "getPoolTimeline", tag: "Calendar", auth: "user", params: POOL_ID,
    summary: "A pool's timeline: its hosts, and who holds each when",
    description:
      "Leases, reservations and maintenance windows overlapping `[from, to)` (default: the 7 days from the current hour; at most 62 days). " +
      "A lease or reservation of several hosts is one item per host, with the same id; a maintenance window of the whole pool has `hostId: null`. " +
      "Everyone signed in sees every booking, by project: the person holding it is never named (`mine` marks the caller's own), and a reservation's title is shown to its holder and administrators only.",
    query: calendar.timelineQuerySchema,
    success: { status: 200, description: "`{ pool, from, to, hosts, items }`.", schema: calendar.timelineResponseSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },
  {
    method: "GET", path: "/api/v1/calendar-feeds", operationId: "listCalendarFeeds", tag: "Calendar", auth: "user",
    summary: "The caller's ICS feeds",
    description: "Without their addresses: a feed's secret is shown once, when it is made.",
    success: { status: 200, description: "`{ data }`.", schema: calendar.calendarFeedListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/calendar-feeds", operationId: "createCalendarFeed", tag: "Calendar", auth: "user",
    summary: "Make an ICS feed address",
    description:
      "`poolId` left out: the caller's own leases and reservations; with it: the pool's bookings (projects, never people) and maintenance. " +
      "One feed per caller and scope: making it again replaces the old address, which stops working. The answer's `url` (`/calendar/<token>.ics`, read without signing in) is shown this once. Audited.",
    body: calendar.calendarFeedCreateSchema, bodyOptional: true,
    success: { status: 201, description: "The feed, with its `url`.", schema: calendar.calendarFeedCreatedSchema },
    errors: [{ status: 400, description: "No such pool." }],
  },
  {
    method: "DELETE", path: "/api/v1/calendar-feeds/{id}", operationId: "revokeCalendarFeed", tag: "Calendar", auth: "user", params: { id: "The feed's id (a UUID)." },
    summary: "Revoke an ICS feed",
    description: "Its address answers 404 from now on. Audited.",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such feed of the caller's." }],
  },

  // Sites and boot servers
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

  // Projects
  {
    method: "GET", path: "/api/v1/projects", operationId: "listProjects", tag: "Projects", auth: "user",
    summary: "List projects",
    description: "Administrators see every project; anyone else the projects they belong to. Each with its quotas and current usage.",
    query: paginationSchema,
    success: { status: 200, description: "A page of projects.", list: true, schema: inventory.projectListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/projects", operationId: "createProject", tag: "Projects", auth: "admin",
    summary: "Create a project",
    description: "Quotas are optional; null means no limit.",
    body: projectCreateSchema,
    success: { status: 201, description: "The new project.", schema: inventory.projectViewSchema },
  },
  {
    method: "GET", path: "/api/v1/projects/{id}", operationId: "getProject", tag: "Projects", auth: "user", params: PROJECT_ID,
    summary: "A project with its members and usage",
    success: { status: 200, description: "The project, the caller's role in it, usage and members.", schema: inventory.projectDetailSchema },
    errors: [PROJECT_404],
  },
  {
    method: "PATCH", path: "/api/v1/projects/{id}", operationId: "updateProject", tag: "Projects", auth: "admin", params: PROJECT_ID,
    summary: "Change a project's name, description or quotas",
    body: projectUpdateSchema,
    success: { status: 200, description: "The project after the change.", schema: inventory.projectViewSchema },
    errors: [{ status: 404, description: "No such project." }],
  },
  {
    method: "DELETE", path: "/api/v1/projects/{id}", operationId: "deleteProject", tag: "Projects", auth: "admin", params: PROJECT_ID,
    summary: "Delete a project",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such project." }, { status: 409, description: "The project has leases on record, which must be kept." }],
  },
  {
    method: "POST", path: "/api/v1/projects/{id}/members", operationId: "addProjectMember", tag: "Projects", auth: "user", params: PROJECT_ID,
    summary: "Add a member (administrators and the project's leaders)",
    description: "Name the person by `email` or `userId`; they must have signed in or registered once. Adding an existing member changes their role.",
    body: projectMemberAddSchema,
    success: { status: 201, description: "`{ userId, email, role }`.", schema: inventory.projectMemberResponseSchema },
    errors: [{ status: 403, description: "The caller is a member but not a leader of this project." }, PROJECT_404],
  },
  {
    method: "DELETE", path: "/api/v1/projects/{id}/members/{userId}", operationId: "removeProjectMember", tag: "Projects", auth: "user",
    params: { ...PROJECT_ID, userId: "The member's user id (a UUID)." },
    summary: "Remove a member (administrators and the project's leaders)",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 403, description: "The caller is a member but not a leader of this project." }, { status: 404, description: "No such project visible to the caller, or that person is not a member." }],
  },

  // Leases
  {
    method: "GET", path: "/api/v1/leases", operationId: "listLeases", tag: "Leases", auth: "user",
    summary: "List leases",
    description: "`scope=mine` (the default) lists the caller's leases; `scope=all`, with the filters, is for administrators.",
    query: leaseListQuerySchema,
    success: { status: 200, description: "A page of leases, newest first, each with its hosts.", list: true, schema: inventory.leaseListResponseSchema },
    errors: [{ status: 403, description: "`scope=all` asked by someone who is not an administrator." }],
  },
  {
    method: "POST", path: "/api/v1/leases", operationId: "createLease", tag: "Leases", auth: "user",
    summary: "Lease hosts",
    description:
      "Ask for `count` hosts from a pool (optionally with tags and hardware: minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps; " +
      "a host with no facts yet, never commissioned, meets no hardware criterion), charged to a project you belong to " +
      "(`projectId` may be left out when you belong to exactly one). The duration defaults to the pool's and may not exceed the " +
      "pool's or the project's maximum. All or nothing: when fewer hosts are free than asked for, nothing is leased. " +
      "Administrators may instead allocate given `hostIds`, and lease on someone's behalf (`userId`).",
    body: leaseCreateSchema,
    success: { status: 201, description: "The lease with its hosts.", schema: inventory.leaseViewSchema },
    errors: [
      { status: 403, description: "quota_exceeded (hosts at once, lease length, node-hours this month), or the caller belongs to no project." },
      { status: 409, description: "insufficient_capacity: not enough matching hosts are available right now; nothing was leased. With hardware criteria the message (and `details`) says how many hosts are free, how many meet each criterion, and how many have no facts yet." },
    ],
  },
  {
    method: "GET", path: "/api/v1/leases/{id}", operationId: "getLease", tag: "Leases", auth: "user", params: LEASE_ID,
    summary: "A lease with its hosts and events",
    success: { status: 200, description: "The lease.", schema: inventory.leaseDetailSchema },
    errors: [LEASE_404],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/extend", operationId: "extendLease", tag: "Leases", auth: "user", params: LEASE_ID,
    summary: "Extend a lease",
    description: "Within the pool's and project's maximum lease length and the project's node-hours.",
    body: leaseExtendSchema,
    success: { status: 200, description: "The lease with its new end.", schema: inventory.leaseViewSchema },
    errors: [LEASE_404, { status: 403, description: "quota_exceeded: the lease would be too long, or the project's node-hours would be exceeded." }, { status: 409, description: "The lease has already ended." }],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/release", operationId: "releaseLease", tag: "Leases", auth: "user", params: LEASE_ID,
    summary: "Release a lease early",
    description: "Its hosts are powered off, wiped and returned to their pool. No body.",
    success: { status: 200, description: "The ended lease.", schema: inventory.leaseViewSchema },
    errors: [LEASE_404, { status: 409, description: "The lease has already ended." }],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/capture", operationId: "captureLeaseDisk", tag: "Leases", auth: "user", params: LEASE_ID,
    summary: "Capture a held host's disk into an image before it is wiped (the staged end's offer)",
    description:
      "Starts a `capture_disk` run on `hostId`, a host of this lease, into `imageId` (an image you own; the capture becomes its next version) or into a new private image named `newImageName`. Allowed while the lease is active: before its end and during its pool's grace period (`endGraceMinutes`), when it is the only run allowed; the lease then moves to `capturing`, and its release waits for the run (at most 4 hours past the end) before power-off and wipe.",
    body: leaseCaptureSchema,
    success: { status: 201, description: "The capture run, as `GET /api/v1/deployments/{id}` answers it.", schema: deployments.deploymentViewSchema },
    errors: [{ status: 400, description: "Not a host of this lease, no image chosen (or both), or an image the caller does not own." }, LEASE_404, { status: 409, description: "The lease has ended, or another run is active on the host." }],
  },
  {
    method: "GET", path: "/api/v1/leases/{id}/disks", operationId: "listLeaseDisks", tag: "Leases", auth: "user", params: LEASE_ID,
    query: extraDisks.leaseDiskListQuerySchema,
    summary: "List a lease's extra disks",
    description: "The extra disks asked for on the lease's hosts (live ones; `history=true` also those already wiped), and this Kiln's limits. A disk's NBD export name is a secret and is not listed: the host's rendered templates get it (`extra_disks`).",
    success: { status: 200, description: "The disks and the limits.", schema: extraDisks.leaseDiskListSchema },
    errors: [LEASE_404],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/disks", operationId: "createLeaseDisks", tag: "Leases", auth: "user", params: LEASE_ID,
    summary: "Ask for extra disks for a host of the lease",
    description:
      "Creates `count` empty disks of `sizeGb` each for `hostId` (a host of this active lease): sparse files on Kiln, exported over NBD to that machine only (a secret export name, given to its templates as `extra_disks`). Each disk counts at its full size against the holder's and the project's storage quotas until it is wiped. They are wiped (export stopped, file deleted) when the host leaves the lease. Audited.",
    body: extraDisks.leaseDisksCreateSchema,
    success: { status: 201, description: "The new disks (state `creating` until the worker has made and exported them, within seconds).", schema: extraDisks.leaseDiskListSchema },
    errors: [
      { status: 400, description: "A bad count or size, a disk larger than KILN_EXTRA_DISK_MAX_GB, or a host that is not held under this lease." },
      { status: 403, description: "quota_exceeded: more disks than a host may have (KILN_EXTRA_DISKS_PER_HOST), or the holder's or the project's storage quota would be exceeded; forbidden: extra disks are switched off." },
      LEASE_404,
      { status: 409, description: "The lease has ended." },
    ],
  },
  {
    method: "DELETE", path: "/api/v1/leases/{id}/disks/{diskId}", operationId: "deleteLeaseDisk", tag: "Leases", auth: "user", params: { ...LEASE_ID, diskId: "The disk's id (a UUID)." },
    summary: "Delete an extra disk",
    description: "Its export stops and its file is deleted (by the worker, within seconds); it no longer counts against the quotas once wiped. Audited.",
    success: { status: 200, description: "The disk, now `wiping`.", schema: extraDisks.leaseDiskViewSchema },
    errors: [{ status: 404, description: "No such lease or disk, or not the caller's." }, { status: 409, description: "The disk is already being wiped." }],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/handover", operationId: "handOverLease", tag: "Leases", auth: "user", params: LEASE_ID,
    summary: "Hand a lease, or one host of it, to another member of its project",
    description: "With `hostId`, that host moves to a new lease of the receiver with the same end; the host stays leased throughout.",
    body: leaseHandOverSchema,
    success: { status: 200, description: "The lease the receiver now holds.", schema: inventory.leaseViewSchema },
    errors: [LEASE_404, { status: 409, description: "The lease has already ended." }],
  },

  // Reservations
  {
    method: "GET", path: "/api/v1/reservations", operationId: "listReservations", tag: "Reservations", auth: "user",
    summary: "List reservations",
    description: "`scope=mine` (the default) lists the caller's reservations; `scope=all` is for administrators. Filters: `poolId`, `state`, and `from`/`to` (reservations whose time, preparation included, overlaps them). Scheduled and running ones first, by start.",
    query: reservations.reservationListQuerySchema,
    success: { status: 200, description: "A page of reservations, each with its hosts (replaced ones included).", list: true, schema: reservations.reservationListResponseSchema },
    errors: [{ status: 403, description: "`scope=all` asked by someone who is not an administrator." }],
  },
  {
    method: "POST", path: "/api/v1/reservations", operationId: "createReservation", tag: "Reservations", auth: "user",
    summary: "Reserve hosts ahead",
    description:
      "Ask for `count` hosts of a pool (optionally with `tags` and the lease hardware filter: minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps), or name `hostIds`, " +
      "from `startsAt` to `endsAt` (ISO 8601), charged to a project you belong to (`projectId` may be left out when you belong to exactly one; administrators may reserve for `userId`). " +
      "A start more than a minute in the past is refused (lease instead). With `deploy` (an install or deploy_image run start, as `POST /hosts/{id}/deployments`), the image and template versions are pinned now " +
      "and the hosts are taken earlier by the measured deploy lead (`prepareFrom`, `plan`) so they are ready at the start. " +
      "Admitted only if enough hosts are free for the whole of [prepareFrom, endsAt) — no lease, reservation or maintenance window — and within the project's quotas: length (the stricter of pool and project), " +
      "how far ahead (maxAdvanceDays), node-hours in each month touched (leases and reservations), and hosts at once (the peak over the interval). All or nothing; race-free.",
    body: reservations.reservationCreateSchema,
    success: { status: 201, description: "The reservation with its chosen hosts.", schema: reservations.reservationViewSchema },
    errors: [
      { status: 403, description: "quota_exceeded: maxLeaseHours, maxAdvanceDays, maxNodeHoursPerMonth (which month, used, needed) or maxHosts (the peak); or the caller belongs to no project." },
      { status: 409, description: "insufficient_capacity: how many hosts are free for the whole time, and what is in the way (`details.conflicts`: host, lease/reservation/maintenance, project, from, to — never a person); or a named host is not in service." },
    ],
  },
  {
    method: "GET", path: "/api/v1/reservations/{id}", operationId: "getReservation", tag: "Reservations", auth: "user", params: { id: "The reservation's id (a UUID)." },
    summary: "A reservation with its hosts, plan, outcome and history",
    success: { status: 200, description: "The reservation; `history` is its audit trail, oldest first.", schema: reservations.reservationDetailSchema },
    errors: [{ status: 404, description: "No such reservation, or not the caller's." }],
  },
  {
    method: "DELETE", path: "/api/v1/reservations/{id}", operationId: "cancelReservation", tag: "Reservations", auth: "user", params: { id: "The reservation's id (a UUID)." },
    summary: "Cancel a reservation",
    description: "Its holder or an administrator. Before the start its booked time is freed; once started, its lease is released too (hosts wiped and returned, as any release).",
    success: { status: 200, description: "The cancelled reservation.", schema: reservations.reservationViewSchema },
    errors: [{ status: 404, description: "No such reservation, or not the caller's." }, { status: 409, description: "It has already ended, failed or been cancelled." }],
  },
  {
    method: "GET", path: "/api/v1/maintenance-windows", operationId: "listMaintenanceWindows", tag: "Reservations", auth: "user",
    summary: "List maintenance windows",
    description: "Filters: `poolId` (the pool's windows and its hosts'), `hostId` (the host's and its pool's), `from`/`to` (overlapping).",
    query: reservations.maintenanceWindowListQuerySchema,
    success: { status: 200, description: "A page of windows, by start.", list: true, schema: reservations.maintenanceWindowListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/maintenance-windows", operationId: "createMaintenanceWindow", tag: "Reservations", auth: "admin",
    summary: "Take a pool or a host out of service for a time",
    description:
      "`poolId` or `hostId`, `startsAt`, `endsAt`, `reason`. No lease or reservation may overlap it afterwards. Scheduled reservations with hosts under it get other hosts chosen (`affectedReservations`; `short` when none was free, and their holders are mailed). " +
      "Refused when active leases hold hosts in that time, unless `force` (those leases are not touched; `overlappingLeases` lists them).",
    body: reservations.maintenanceWindowCreateSchema,
    success: { status: 201, description: "`{ window, affectedReservations, overlappingLeases }`.", schema: reservations.maintenanceWindowCreateResponseSchema },
    errors: [{ status: 409, description: "Active leases hold hosts in that time (named by project), and `force` was not given." }],
  },
  {
    method: "DELETE", path: "/api/v1/maintenance-windows/{id}", operationId: "deleteMaintenanceWindow", tag: "Reservations", auth: "admin", params: { id: "The window's id (a UUID)." },
    summary: "Remove a maintenance window",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such window." }],
  },

  // Templates
  {
    method: "GET", path: "/api/v1/templates", operationId: "listTemplates", tag: "Templates", auth: "user",
    summary: "Templates the caller may use",
    description: "Built-in and public templates, the caller's own, and those shared with the caller's projects.",
    query: templateListQuerySchema,
    success: { status: 200, description: "`{ data }`: every template the caller may use (not paged).", schema: templates.templateListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/templates", operationId: "createTemplate", tag: "Templates", auth: "user",
    summary: "Create a template (its version 1)",
    description: "System templates are iPXE scripts; unattended ones are preseed, kickstart, cloud-init or script. A syntax error is refused with its line and column. Only administrators publish to everyone.",
    body: templateCreateSchema,
    success: { status: 201, description: "The new template.", schema: templates.templateViewSchema },
  },
  {
    method: "GET", path: "/api/v1/templates/{id}", operationId: "getTemplate", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "A template with its source and version history",
    query: templateGetQuerySchema,
    success: { status: 200, description: "The template, the requested (default: latest) version's source, and its versions.", schema: templates.templateDetailSchema },
    errors: [TEMPLATE_404],
  },
  {
    method: "PATCH", path: "/api/v1/templates/{id}", operationId: "updateTemplate", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "Rename a template, or change whom it is shared with (its owner, administrators)",
    body: templateUpdateSchema,
    success: { status: 200, description: "The template after the change.", schema: templates.templateViewSchema },
    errors: [{ status: 403, description: "A built-in template, or the caller may read it but does not own it." }, TEMPLATE_404],
  },
  {
    method: "DELETE", path: "/api/v1/templates/{id}", operationId: "deleteTemplate", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "Delete a template (its owner, administrators)",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 403, description: "A built-in template, or the caller may read it but does not own it." }, TEMPLATE_404, { status: 409, description: "The template is in use." }],
  },
  {
    method: "GET", path: "/api/v1/templates/{id}/diff", operationId: "diffTemplateVersions", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "Unified diff between two versions",
    query: templateDiffQuerySchema,
    success: { status: 200, description: "`{ diff }`.", schema: templates.templateDiffResponseSchema },
    errors: [{ status: 404, description: "No such template visible to the caller, or no such version." }],
  },
  {
    method: "POST", path: "/api/v1/templates/{id}/versions", operationId: "saveTemplateVersion", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "Save new source as the next version (earlier versions never change)",
    body: templateVersionCreateSchema,
    success: { status: 201, description: "`{ id, version }`.", schema: templates.templateVersionResponseSchema },
    errors: [{ status: 403, description: "A built-in template, or the caller may read it but does not own it." }, TEMPLATE_404],
  },
  {
    method: "POST", path: "/api/v1/templates/preview", operationId: "previewTemplate", tag: "Templates", auth: "user",
    summary: "Render a saved template, or unsaved text, for a host the caller holds",
    description: "Template errors are part of the answer (`ok: false` with line and column), not an error status.",
    body: previewSchema,
    success: { status: 200, description: "`{ ok: true, output, warnings, bytes, variables }` or `{ ok: false, error: { message, line, column, kind, suggestions }, variables }`; `variables` lists what the template can use for this host (`{ name, value, type }`), and an undefined name is an error of kind `undefined` with the closest names in `suggestions`.", schema: templates.previewResponseSchema },
    errors: [HOLDER_HOST_404],
  },

  // Images
  {
    method: "GET", path: "/api/v1/images", operationId: "listImages", tag: "Images", auth: "user",
    summary: "List images",
    description: "Public images, the caller's own, and those shared with the caller's projects (administrators: all), by name. `q` searches name and description.",
    query: imageListQuerySchema,
    success: { status: 200, description: "A page of images with their latest ready version, version count and stored bytes.", list: true, schema: images.imageListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/images", operationId: "createImage", tag: "Images", auth: "user",
    summary: "Create an image (then upload versions to it)",
    description: "Private by default; `project` shares it with a project the caller belongs to (read-only for the other members); only administrators make images public.",
    body: imageCreateSchema,
    success: { status: 201, description: "The new image, without versions.", schema: images.imageViewSchema },
  },
  {
    method: "GET", path: "/api/v1/images/{id}", operationId: "getImage", tag: "Images", auth: "user", params: IMAGE_ID,
    summary: "An image with its versions",
    success: { status: 200, description: "The image and `versions`, newest first.", schema: images.imageDetailSchema },
    errors: [IMAGE_404],
  },
  {
    method: "PATCH", path: "/api/v1/images/{id}", operationId: "updateImage", tag: "Images", auth: "user", params: IMAGE_ID,
    summary: "Rename, describe or share an image",
    body: imageUpdateSchema,
    success: { status: 200, description: "The image after the change.", schema: images.imageViewSchema },
    errors: [IMAGE_404, IMAGE_403],
  },
  {
    method: "DELETE", path: "/api/v1/images/{id}", operationId: "deleteImage", tag: "Images", auth: "user", params: IMAGE_ID,
    summary: "Delete an image with all its versions and their bytes",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [IMAGE_404, IMAGE_403, { status: 409, description: "A pending or running deployment uses one of its versions." }],
  },
  {
    method: "GET", path: "/api/v1/images/{id}/versions", operationId: "listImageVersions", tag: "Images", auth: "user", params: IMAGE_ID,
    summary: "An image's versions, newest first",
    description: "Each with its state (`uploading`, `verifying`, `ready`, `failed` with `failureReason`), size, sha256, detected format, uploader and notes.",
    query: paginationSchema,
    success: { status: 200, description: "A page of versions.", list: true, schema: images.imageVersionListResponseSchema },
    errors: [IMAGE_404],
  },
  {
    method: "GET", path: "/api/v1/images/{id}/versions/{version}", operationId: "getImageVersion", tag: "Images", auth: "user", params: IMAGE_VERSION,
    summary: "One version, with the deployments that used it",
    success: { status: 200, description: "The version, its `blobUrl` when ready, and `usedBy` (deployments, newest first).", schema: images.imageVersionDetailSchema },
    errors: [IMAGE_404],
  },
  {
    method: "PATCH", path: "/api/v1/images/{id}/versions/{version}", operationId: "updateImageVersion", tag: "Images", auth: "user", params: IMAGE_VERSION,
    summary: "Change a version's notes (its bytes never change)",
    body: imageVersionUpdateSchema,
    success: { status: 200, description: "The version after the change.", schema: images.imageVersionDetailSchema },
    errors: [IMAGE_404, IMAGE_403],
  },
  {
    method: "DELETE", path: "/api/v1/images/{id}/versions/{version}", operationId: "deleteImageVersion", tag: "Images", auth: "user", params: IMAGE_VERSION,
    summary: "Delete a version and its bytes (an upload in progress is cancelled)",
    description: "Version numbers are never reused; `latest` moves to the newest remaining ready version.",
    success: { status: 200, description: "`{ ok: true, version }`.", schema: images.imageVersionDeleteResponseSchema },
    errors: [IMAGE_404, IMAGE_403, { status: 409, description: "A pending or running deployment uses this version." }],
  },

  // Network boot
  {
    method: "GET", path: "/api/v1/hosts/{id}/boot", operationId: "getBootSettings", tag: "Network boot", auth: "user", params: HOST_ID,
    summary: "A held host's boot settings and what its next boot does",
    success: { status: 200, description: "The settings and a description of the next boot.", schema: templates.bootSettingsResponseSchema },
    errors: [HOLDER_HOST_404],
  },
  {
    method: "PUT", path: "/api/v1/hosts/{id}/boot", operationId: "updateBootSettings", tag: "Network boot", auth: "user", params: HOST_ID,
    summary: "Choose a held host's templates, variables and boot interface",
    body: bootSettingsSchema,
    success: { status: 200, description: "The settings after the change.", schema: templates.bootSettingsResponseSchema },
    errors: [HOLDER_HOST_404],
  },
  {
    method: "PUT", path: "/api/v1/hosts/{id}/vars", operationId: "setHostVars", tag: "Network boot", auth: "admin", params: HOST_ID,
    summary: "Set a host's own template variables (a lease's variables override them)",
    body: hostVarsSchema,
    success: { status: 200, description: "The host's variables.", schema: templates.hostVarsResponseSchema },
    errors: [{ status: 404, description: "No such host." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/reinstall", operationId: "markForReinstall", tag: "Network boot", auth: "user", params: HOST_ID,
    summary: "Mark a held host for reinstall with its boot settings",
    description: "The next network boot installs it; the mark holds until the install reports done, or is undone. No body.",
    success: { status: 201, description: "`{ deploymentId, nextBoot }`.", schema: templates.reinstallMarkResponseSchema },
    errors: [{ status: 400, description: "No system template is chosen for this host yet." }, HOLDER_HOST_404, { status: 409, description: "The host is not leased, or is already marked." }],
  },
  {
    method: "DELETE", path: "/api/v1/hosts/{id}/reinstall", operationId: "undoReinstallMark", tag: "Network boot", auth: "user", params: HOST_ID,
    summary: "Undo a reinstall mark",
    success: { status: 200, description: "`{ nextBoot }`.", schema: templates.reinstallUndoResponseSchema },
    errors: [HOLDER_HOST_404, { status: 409, description: "The host is not marked." }],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/next-boot", operationId: "getNextBoot", tag: "Network boot", auth: "user", params: HOST_ID,
    summary: "What a held host does at its next network boot",
    description: "`{ kind: \"run\", deploymentId, action }` (its active run), `{ kind: \"diskless\", imageId, imageVersion, deploymentId, resetAt }` (its live diskless root, docs/diskless.md), `{ kind: \"disk\" }` (local boot), or `{ kind: \"halt\", deploymentId, reason, state }`: the last deploy failed or was cancelled after its write started, so Kiln answers a halt script instead of booting a partial disk.",
    success: { status: 200, description: "The decision.", schema: deployments.nextBootResponseSchema },
    errors: [HOLDER_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/next-boot", operationId: "allowDiskBoot", tag: "Network boot", auth: "user", params: HOST_ID,
    summary: "Boot the disk anyway: end a halt after a failed or cancelled write",
    description: "Recorded on the failed run, the host's timeline and the audit log. A new run also ends the halt once it has written the disk. No body.",
    success: { status: 200, description: "The next boot after the change (`{ kind: \"disk\" }`).", schema: deployments.nextBootResponseSchema },
    errors: [HOLDER_HOST_404, { status: 409, description: "The host is not halted, or has an active run." }],
  },
  {
    method: "GET", path: "/api/v1/hosts/power", operationId: "listHostPower", tag: "Hosts", auth: "user",
    summary: "Power states of several hosts (for a list)",
    description: "`ids`: comma-separated host ids, at most 500. Administrators get any host; anyone else the hosts they hold (others are left out).",
    query: powerStatesQuerySchema,
    success: { status: 200, description: "`{ data: [{ hostId, driver, state: on|off|unknown, message, checkedAt, changedAt, reportsState, canPowerOff, networkBoot }] }`.", schema: power.powerListResponseSchema },
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/power", operationId: "getHostPower", tag: "Network boot", auth: "user", params: HOST_ID,
    summary: "A held host's power state",
    description: "As the worker last read it (every KILN_POWER_POLL_SECONDS) or the last power action left it. Manual and Wake-on-LAN hosts are always `unknown`, with why.",
    success: { status: 200, description: "`{ hostId, driver, state, message, checkedAt, changedAt, reportsState, canPowerOff, networkBoot: override|always|null }`.", schema: power.powerViewSchema },
    errors: [HOLDER_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/power", operationId: "powerHost", tag: "Network boot", auth: "user", params: HOST_ID,
    summary: "Switch a held host on, off or power-cycle it, or ask its power state",
    description: "Through the host's power driver (manual, Wake-on-LAN, IPMI, Redfish, plugin, qemu). `bootFromNetwork: true` with on or cycle makes the next boot a network boot (IPMI bootdev pxe, Redfish boot override; 400 for drivers that cannot). A driver that cannot do it answers 503 with the reason.",
    body: powerActionSchema,
    success: { status: 200, description: "`{ state: on|off|unknown, message, log }`.", schema: power.powerActionResponseSchema },
    errors: [HOLDER_HOST_404, { status: 503, description: "The power driver failed (BMC unreachable, wrong password, Wake-on-LAN cannot switch off, plugin failed or timed out)." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/power/test", operationId: "testPowerSettings", tag: "Hosts", auth: "admin", params: HOST_ID,
    summary: "Check a host's power settings",
    description: "Asks the driver for the power state and reports whether that worked, with the driver's log.",
    success: { status: 200, description: "`{ ok, driver, state, message, log }`.", schema: power.powerTestResponseSchema },
    errors: [{ status: 404, description: "No such host." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/console", operationId: "openHostConsole", tag: "Hosts", auth: "user", params: HOST_ID,
    summary: "A ticket for a held host's serial console",
    description: "One use, valid for a minute: open the WebSocket at `url` (on Kiln's own origin) within it. Lab QEMU machines and IPMI hosts (Serial-over-LAN) have a console; the holder and administrators may attach, and each attachment is audited. No body.",
    success: { status: 200, description: "`{ ticket, url, expiresAt, kind }`.", schema: inventory.consoleTicketResponseSchema },
    errors: [HOLDER_HOST_404, { status: 409, description: "This host's power driver offers no console." }],
  },

  // Provisioning
  {
    method: "GET", path: "/api/v1/hosts/{id}/deployments", operationId: "listDeployments", tag: "Provisioning", auth: "user", params: HOST_ID,
    summary: "A held host's provisioning runs, newest first",
    description: "Each with its steps (state, start, end, deadline, failure reason), progress (bytes, total, rate, ETA) and outcome; `lastEventId` is where the live feed (`/api/v1/hosts/{id}/events`) continues from.",
    query: deploymentListQuerySchema,
    success: { status: 200, description: "A page of runs, and `lastEventId`.", list: true, schema: deployments.deploymentListResponseSchema },
    errors: [HOLDER_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/deployments", operationId: "startDeployment", tag: "Provisioning", auth: "user", params: HOST_ID,
    summary: "Reinstall, deploy an image to, capture or wipe a held host",
    description:
      "Checks everything before anything is powered: the caller holds the host, may read the image (and its version is ready), no other run is active, and the templates render for this host. Then Kiln powers the machine on from the network and follows each step to the end. `install` uses the given templates or the host's boot settings; the other actions boot Kiln's deploy ramdisk.",
    body: deploymentStartSchema,
    success: { status: 201, description: "The new run, as `GET /api/v1/deployments/{id}` answers it.", schema: deployments.deploymentViewSchema },
    errors: [{ status: 400, description: "A bad choice: no template, an image that does not exist or may not be used, a version that is not ready, a template that does not render (with line and column), capturing into an image the caller does not own." }, HOLDER_HOST_404, { status: 409, description: "The host is not leased, or another run is active on it." }],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/diskless", operationId: "getDisklessRoot", tag: "Provisioning", auth: "user", params: HOST_ID,
    summary: "A held host's diskless root (docs/diskless.md)",
    description: "`{ root }`: the copy-on-write root a diskless boot (`POST …/deployments` with `diskless: true`) made, booted at every network boot until reinstall or release; `null` when none. Its NBD export's name is not shown: only the machine's boot answer carries it.",
    success: { status: 200, description: "`{ root }`.", schema: disklessRootResponseSchema },
    errors: [HOLDER_HOST_404],
  },
  {
    method: "DELETE", path: "/api/v1/hosts/{id}/diskless", operationId: "releaseDisklessRoot", tag: "Provisioning", auth: "user", params: HOST_ID,
    summary: "Release a host's diskless root: its overlay is deleted and its export stopped",
    description: "The host boots its disk again. Also done by Kiln when the lease ends. Audited.",
    success: { status: 200, description: "`{ root: null }`.", schema: disklessRootResponseSchema },
    errors: [HOLDER_HOST_404, { status: 409, description: "The host has no diskless root." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/diskless/reinstall", operationId: "reinstallDisklessRoot", tag: "Provisioning", auth: "user", params: HOST_ID,
    summary: "Discard a diskless root's changes",
    description: "A new empty overlay of the same version replaces the old one (deleted); the export keeps its name and port. Reboot the machine to use it. No body. Audited.",
    success: { status: 200, description: "`{ root }`.", schema: disklessRootResponseSchema },
    errors: [HOLDER_HOST_404, { status: 409, description: "The host has no diskless root." }],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/diskless/capture", operationId: "captureDisklessRoot", tag: "Provisioning", auth: "user", params: HOST_ID,
    summary: "Capture a diskless root as the next version of an image of your own",
    description: "The overlay with its version, flattened to a raw disk (`qemu-img convert`): its bytes equal the version's except where the machine wrote. Take it with the machine off or idle. Audited.",
    body: disklessCaptureSchema,
    success: { status: 201, description: "The new version.", schema: disklessCaptureResponseSchema },
    errors: [{ status: 400, description: "Not an image of your own." }, HOLDER_HOST_404, { status: 409, description: "The host has no diskless root." }],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/events", operationId: "followHostEvents", tag: "Provisioning", auth: "user", params: HOST_ID,
    summary: "Live feed of a held host's runs (Server-Sent Events)",
    description:
      "`text/event-stream`: one event per change (`created`, `step`, `progress`, `log`, `inventory`, `state`), each with an `id:`. A reconnecting client sends `Last-Event-ID` (browsers' EventSource do) and gets everything after it; `?after=` does the same for the first connection.",
    success: { status: 200, description: "An event stream that stays open.", contentType: "text/event-stream", schema: EVENT_STREAM },
    errors: [HOLDER_HOST_404],
  },
  {
    method: "GET", path: "/api/v1/deployments/{id}", operationId: "getDeployment", tag: "Provisioning", auth: "user", params: DEPLOYMENT_ID,
    summary: "One run: steps, progress, log",
    description: "The latest 500 log lines (or those after `logs_after`), and `lastEventId` for the live feed.",
    query: deploymentGetQuerySchema,
    success: { status: 200, description: "The run.", schema: deployments.deploymentViewSchema },
    errors: [DEPLOYMENT_404],
  },
  {
    method: "POST", path: "/api/v1/deployments/{id}/cancel", operationId: "cancelDeployment", tag: "Provisioning", auth: "user", params: DEPLOYMENT_ID,
    summary: "Cancel a run: it ends as cancelled and the machine is switched off",
    description: "No body.",
    success: { status: 200, description: "The run after the change.", schema: deployments.deploymentViewSchema },
    errors: [DEPLOYMENT_404, { status: 409, description: "The run has already ended." }],
  },
  {
    method: "POST", path: "/api/v1/deployments/{id}/retry", operationId: "retryDeployment", tag: "Provisioning", auth: "user", params: DEPLOYMENT_ID,
    summary: "Run a failed or cancelled run again",
    description: "The same action with the same template and image versions, vars and options, as a new run. No body.",
    success: { status: 201, description: "The new run.", schema: deployments.deploymentViewSchema },
    errors: [DEPLOYMENT_404, { status: 409, description: "The run is active or done, the host is not leased any more, or another run is active." }],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/deploy", operationId: "deployToLease", tag: "Provisioning", auth: "user", params: LEASE_ID,
    summary: "Deploy one image or install to all or some held hosts of a lease (a deployment group)",
    description:
      "`spec` is a run start as `POST /api/v1/hosts/{id}/deployments` takes it (`deploy_image`, `install` — which must name its system template — or `wipe_disk`); its image and template versions are pinned once, so every host gets the same. `hostIds` picks hosts of the lease (all its held hosts when left out). Each host gets its own run; a host that cannot start now (another run active, released) is listed in `refused` with the reason and the others start. A host whose run fails is retried alone until it has had `maxAttempts` runs (default 2); the group never restarts as a whole.",
    body: deploymentGroups.leaseDeploySchema,
    success: { status: 201, description: "The group, as `GET /api/v1/deployment-groups/{id}` answers it, with `refused`.", schema: deploymentGroups.deploymentGroupViewSchema },
    errors: [
      { status: 400, description: "A bad choice, the same for every host (an image that is not ready or may not be used, no system template, capture), or a host that is not in the lease; nothing was started." },
      LEASE_404,
      { status: 409, description: "The lease has ended, or no host could start (each reason given)." },
    ],
  },
  {
    method: "GET", path: "/api/v1/deployment-groups/{id}", operationId: "getDeploymentGroup", tag: "Provisioning", auth: "user", params: GROUP_ID,
    summary: "A deployment group: every host's run",
    description: "Per host: its latest run's state (or `not_started`), the step it is at, bytes written, the runs it has had in the group (`attempts`) and the failure reason. The lease's holder and administrators.",
    success: { status: 200, description: "The group.", schema: deploymentGroups.deploymentGroupViewSchema },
    errors: [GROUP_404],
  },
  {
    method: "POST", path: "/api/v1/deployment-groups/{id}/retry-failed", operationId: "retryFailedGroupHosts", tag: "Provisioning", auth: "user", params: GROUP_ID,
    summary: "Retry the failed hosts of a deployment group",
    description: "Each held host whose latest run failed or was cancelled runs again with the same versions; a host that never started starts. Hosts done or running are left alone. A person's retry is not bounded by `maxAttempts`. No body.",
    success: { status: 201, description: "The group after the retry, with `refused`.", schema: deploymentGroups.deploymentGroupViewSchema },
    errors: [GROUP_404, { status: 409, description: "The lease has ended, no host has failed, or none could start." }],
  },

  // Run records
  {
    method: "GET", path: "/api/v1/records", operationId: "listRunRecords", tag: "Records", auth: "user",
    summary: "Run records of a host or a project",
    description: "Newest first. Researchers see the records of their projects' runs, their own, and published ones; administrators all. `projectId` of a project the caller is not in answers 404.",
    query: records.recordListQuerySchema,
    success: { status: 200, description: "A page of records.", list: true, schema: records.recordListResponseSchema },
    errors: [PROJECT_404],
  },
  {
    method: "GET", path: "/api/v1/records/{id}", operationId: "getRunRecord", tag: "Records", auth: "public", params: RECORD_ID,
    summary: "One run record: what ran, its sha256 and outcome",
    description:
      "`record` is frozen when the run is created; `recordSha256` is the sha256 of its canonical JSON (keys sorted at every level, no whitespace). `rendered` hashes the stored boot texts, which hold a per-run placeholder where the one-time token goes (never the token). `?download=1` answers the same as a file, `kiln-run-<id>.json`. Readable by the project's members, whoever ran it and administrators; by anyone, without signing in, once published.",
    query: records.recordGetQuerySchema,
    success: { status: 200, description: "The record.", schema: records.recordViewSchema },
    errors: [RECORD_404],
  },
  {
    method: "POST", path: "/api/v1/records/{id}/publish", operationId: "publishRunRecord", tag: "Records", auth: "user", params: RECORD_ID,
    summary: "Publish a run record: readable without signing in from now on",
    description: "For a leader of the record's project, or an administrator. No body. Publishing again changes nothing (the first date stays).",
    success: { status: 200, description: "The record.", schema: records.recordViewSchema },
    errors: [RECORD_404, { status: 403, description: "The caller may read the record but is not a leader of its project." }],
  },
  {
    method: "GET", path: "/api/v1/records/{id}/diff", operationId: "diffRunRecord", tag: "Records", auth: "user", params: RECORD_ID,
    summary: "What would differ if the record were re-run now",
    description: "A newer version of the image or templates (a re-run still uses the pinned ones), a pinned version that is gone, and with `hostId` (a host the caller holds) the host's hardware field by field against the record's facts. `summary` says it in sentences.",
    query: records.recordDiffQuerySchema,
    success: { status: 200, description: "The differences.", schema: records.recordDiffSchema },
    errors: [{ status: 404, description: "No such record (or one the caller may not read), or a host the caller does not hold." }],
  },
  {
    method: "POST", path: "/api/v1/records/{id}/rerun", operationId: "rerunRunRecord", tag: "Records", auth: "user", params: RECORD_ID,
    summary: "Re-run a record on hosts the caller holds",
    description: "Deploys the pinned image version, template versions, vars and options again, as one group over the chosen hosts (all of one lease). An image deploy's built-in boot template is Kiln's, at its current version.",
    body: records.recordRerunSchema,
    success: { status: 201, description: "`{ groupId, deploymentIds }`.", schema: records.recordRerunResponseSchema },
    errors: [
      { status: 400, description: "No hosts, or hosts of more than one lease." },
      { status: 404, description: "No such record (or one the caller may not read), or a host the caller does not hold." },
      { status: 409, description: "A host is not leased or busy, or the pinned image version is gone." },
    ],
  },

  // Lab access
  {
    method: "GET", path: "/api/v1/me/vpn-devices", operationId: "listMyVpnDevices", tag: "Lab access", auth: "user",
    summary: "The caller's WireGuard devices",
    description: "Active devices only (a revoked one is gone from the list). Never a private key: Kiln does not keep one.",
    success: { status: 200, description: "`{ data }`.", schema: vpn.vpnDeviceListResponseSchema },
    errors: [VPN_404],
  },
  {
    method: "POST", path: "/api/v1/me/vpn-devices", operationId: "createMyVpnDevice", tag: "Lab access", auth: "user",
    summary: "Add a WireGuard device",
    description:
      "Send `publicKey` (base64 of 32 bytes, as `wg pubkey` prints it; `keyOrigin: \"browser\"` when Kiln's page made it in the browser), or `generate: \"server\"`: Kiln makes the key pair and the answer carries `privateKey` and the complete file this once — Kiln does not store it. " +
      "The device gets the lowest free address of KILN_VPN_ADDRESS_RANGE. At most 10 active devices per person. Audited (`vpn.device.create`).",
    body: vpn.vpnDeviceCreateSchema,
    success: { status: 201, description: "The device with its wg-quick file (`config`).", schema: vpn.vpnDeviceCreatedSchema },
    errors: [
      { status: 400, description: "Not a WireGuard key, or a key another active device uses." },
      { status: 403, description: "The caller already has 10 devices, or the account is not active." },
      VPN_404,
      { status: 409, description: "Every address of the range is in use." },
      { status: 503, description: "KILN_VPN_ADDRESS_RANGE cannot hold devices (malformed, or smaller than /30)." },
    ],
  },
  {
    method: "GET", path: "/api/v1/me/vpn-devices/{id}/wireguard.conf", operationId: "getMyVpnDeviceConfig", tag: "Lab access", auth: "user", params: VPN_DEVICE_ID,
    summary: "Download a device's WireGuard file",
    description: "`kiln-<device>.conf` as an attachment. Its `PrivateKey` line is a placeholder to replace with the device's private key, which Kiln never keeps.",
    success: { status: 200, description: "The wg-quick file.", contentType: "text/plain", schema: z.string().describe("text/plain") },
    errors: [{ status: 404, description: "No such active device of the caller's, or WireGuard is not configured." }],
  },
  {
    method: "DELETE", path: "/api/v1/me/vpn-devices/{id}", operationId: "revokeMyVpnDevice", tag: "Lab access", auth: "user", params: VPN_DEVICE_ID,
    summary: "Revoke one of the caller's WireGuard devices",
    description: "The gateway drops its peer when it next reads the peer list; its address is free again. Revoking a revoked device changes nothing and answers the same. Audited (`vpn.device.revoke`).",
    success: { status: 200, description: "`{ ok: true, revokedAt }`.", schema: VPN_REVOKED },
    errors: [{ status: 404, description: "No such device of the caller's, or WireGuard is not configured." }],
  },
  {
    method: "GET", path: "/api/v1/me/openvpn.ovpn", operationId: "getMyOpenVpnProfile", tag: "Lab access", auth: "user",
    summary: "Download the caller's OpenVPN profile",
    description:
      "`kiln.ovpn` as an attachment, for labs whose OpenVPN checks passwords against the directory (openvpn-auth-ldap): the server (KILN_OPENVPN_REMOTE), its CA, and the caller's directory uid as the username " +
      "(the entry Kiln manages for them, else their LDAP sign-in name, else their email's local part). No secret: OpenVPN asks for the directory password.",
    success: { status: 200, description: "The .ovpn profile.", contentType: "application/x-openvpn-profile", schema: z.string().describe("application/x-openvpn-profile") },
    errors: [
      { status: 404, description: "OpenVPN is not set up on this Kiln (KILN_OPENVPN_REMOTE unset)." },
      { status: 503, description: "KILN_OPENVPN_CA_FILE is unset or unreadable, or the settings are malformed (the log says which)." },
    ],
  },
  {
    method: "GET", path: "/api/v1/vpn-devices", operationId: "listVpnDevices", tag: "Lab access", auth: "admin",
    summary: "Every active WireGuard device, with its owner",
    success: { status: 200, description: "`{ data }`.", schema: vpn.vpnDeviceAdminListResponseSchema },
    errors: [VPN_404],
  },
  {
    method: "DELETE", path: "/api/v1/vpn-devices/{id}", operationId: "revokeVpnDevice", tag: "Lab access", auth: "admin", params: VPN_DEVICE_ID,
    summary: "Revoke anyone's WireGuard device",
    description: "As the owner's revoke; the audit entry names the administrator.",
    success: { status: 200, description: "`{ ok: true, revokedAt }`.", schema: VPN_REVOKED },
    errors: [{ status: 404, description: "No such device, or WireGuard is not configured." }],
  },

  // Audit
  {
    method: "GET", path: "/api/v1/audit", operationId: "searchAudit", tag: "Audit", auth: "admin",
    summary: "Search the audit log",
    description: "`actor` matches part of the actor's email; `action` matches an action or its prefix (`lease` finds `lease.create`, `lease.release`…); `from`/`to` are ISO 8601 times.",
    query: auditListQuerySchema,
    success: { status: 200, description: "A page of entries, newest first.", list: true, schema: inventory.auditListResponseSchema },
  },

  // Users
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

  // Directory
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

  // Account
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

  // Session
  {
    method: "POST", path: "/api/session", operationId: "signIn", tag: "Session", auth: "public",
    summary: "Sign in (sets the session cookie)",
    description: "`method` is `password` (local account, by email) or `ldap` (directory account, by uid or mail). After a few failures per account, or per client address, each further attempt must wait longer (1 s, 2 s, 4 s …; at most a minute per account, 30 minutes per address).",
    body: signInSchema,
    success: { status: 200, description: "`{ ok: true }` and a session cookie.", schema: common.okResponseSchema },
    errors: [{ status: 401, description: "Wrong login or password (the same answer whether or not the account exists)." }, { status: 429, description: "Too many failed attempts; Retry-After says when to try again." }],
  },
  {
    method: "DELETE", path: "/api/session", operationId: "signOut", tag: "Session", auth: "public",
    summary: "Sign out (ends the session)",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
  },
  {
    method: "POST", path: "/api/account/register", operationId: "register", tag: "Session", auth: "public",
    summary: "Register an account",
    description: "Mails a verification link. Depending on KILN_REGISTRATION, an administrator may also have to approve the account.",
    body: registerSchema,
    success: { status: 202, description: "Registration accepted; check the mail.", schema: accounts.registerResponseSchema },
    errors: [{ status: 403, description: "Registration is closed, or the email's domain is not allowed." }, { status: 429, description: "Too many registrations from this address." }],
  },
  {
    method: "POST", path: "/api/account/verify", operationId: "verifyEmail", tag: "Session", auth: "public",
    summary: "Confirm an email address with the mailed link's token",
    body: verifyEmailSchema,
    success: { status: 200, description: "The account's status after verification.", schema: accounts.verifyEmailResponseSchema },
    errors: [{ status: 404, description: "The link is not valid." }, { status: 410, description: "The link was already used, or has expired." }],
  },
  {
    method: "POST", path: "/api/account/password-reset", operationId: "requestPasswordReset", tag: "Session", auth: "public",
    summary: "Mail a password reset link",
    description: "The same answer whether or not the account exists.",
    body: resetRequestSchema,
    success: { status: 202, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 429, description: "Too many requests for this account or address." }],
  },
  {
    method: "POST", path: "/api/account/password-reset/confirm", operationId: "resetPassword", tag: "Session", auth: "public",
    summary: "Set a new password with a reset link's token",
    description: "With `revokeTokens: true` every API token of the account is revoked too. A refused password (common, or containing the email) leaves the link usable.",
    body: resetPasswordSchema,
    success: { status: 200, description: "`{ email, endedSessions, revokedTokens }`; every session of the account ends.", schema: accounts.passwordResetResponseSchema },
    errors: [{ status: 404, description: "The link is not valid." }, { status: 410, description: "The link was already used, or has expired." }],
  },
  {
    method: "POST", path: "/api/account/setup", operationId: "createFirstAdmin", tag: "Session", auth: "public",
    summary: "Create the first administrator with the one-time setup link printed at start",
    body: firstAdminSchema,
    success: { status: 201, description: "The administrator account.", schema: accounts.firstAdminResponseSchema },
    errors: [{ status: 404, description: "The link is not valid." }, { status: 410, description: "The link was already used, or an administrator already exists." }],
  },

  // VPN gateway: the gateway's token, not a person's ("public" to the session guard; the handler checks the token).
  {
    method: "GET", path: "/api/v1/vpn/gateway/wireguard.conf", operationId: "getVpnGatewayPeers", tag: "VPN gateway", auth: "public",
    summary: "The gateway's WireGuard peers",
    description:
      "One `[Peer]` per device of an active account (not revoked), `AllowedIPs` its tunnel address /32, sorted. No `[Interface]`: the gateway prepends its own (private key, port) and applies the whole with `wg syncconf`. " +
      "Send `Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`. The answer carries an ETag; with `If-None-Match` it is 304 when nothing changed.",
    success: { status: 200, description: "The peers, text/plain (wg config format).", schema: z.string(), contentType: "text/plain" },
    errors: [
      { status: 401, description: "No bearer token, or not the gateway's token." },
      { status: 404, description: "WireGuard or the gateway token is not configured on this Kiln." },
    ],
  },
  {
    method: "GET", path: "/api/v1/vpn/gateway/nftables.conf", operationId: "getVpnGatewayRules", tag: "VPN gateway", auth: "public",
    summary: "The gateway's nftables forwarding rules",
    description:
      "An `nft -f` file that replaces the table `inet kiln_vpn` in one transaction. With KILN_VPN_FOLLOW_LEASES each device reaches only the addresses of the machines its owner holds now; else the machines' networks (KILN_VPN_ALLOWED_IPS). Anything else from the VPN range is dropped. " +
      "Send `Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`. ETag and If-None-Match → 304 as for the peers.",
    success: { status: 200, description: "The ruleset, text/plain.", schema: z.string(), contentType: "text/plain" },
    errors: [
      { status: 401, description: "No bearer token, or not the gateway's token." },
      { status: 404, description: "WireGuard or the gateway token is not configured on this Kiln." },
    ],
  },

  // System
  {
    method: "GET", path: "/api/health", operationId: "getHealth", tag: "System", auth: "public",
    summary: "Liveness and database reachability",
    success: { status: 200, description: "`{ ok: true, database: \"up\" }`.", schema: accounts.healthResponseSchema },
    errors: [{ status: 503, description: "The database cannot be reached." }],
  },
  {
    method: "GET", path: "/api/v1/openapi.json", operationId: "getOpenApiDocument", tag: "System", auth: "public",
    summary: "This document",
    success: { status: 200, description: "The OpenAPI 3.1 document.", schema: OPENAPI_DOCUMENT },
  },
];

/**
 * Route files that are not part of the JSON API: Auth.js's own endpoints behind the session
 * cookie, and the tus upload endpoint (a binary protocol of its own, tus 1.0; README and
 * docs/images.md describe it).
 */
export const UNDOCUMENTED_ROUTE_FILES = ["app/api/auth/[...nextauth]/route.ts", "app/api/uploads/[[...path]]/route.ts"];
