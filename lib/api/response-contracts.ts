// Compile-time only: what each handler answers (the lib/ function it returns, as the route
// wraps it) fits the response schema the OpenAPI document shows for it (lib/api/routes/).
// `npx tsc` fails here, naming the field, when lib/ stops sending something the document
// promises or sends it in another type. Extra fields in an answer are allowed (responses
// are documented open: a client ignores what it does not know).
import type { z } from "zod";
import type { addSshKey, changePassword, getSshKeys } from "../accounts/profile";
import type { searchUsers, updateUserAsAdmin } from "../accounts/admin";
import type { createFirstAdmin } from "../accounts/first-admin";
import type { resetPassword } from "../accounts/password-reset";
import type { registerUser } from "../accounts/register";
import type { toPublicUser } from "../users/user-view";
import type { verifyEmail } from "../accounts/verification";
import type { searchAudit } from "../audit/audit";
import type { createApiToken, getApiTokens } from "../auth/api-tokens";
import type { CurrentUser } from "../auth/guard";
import type { getBootSettings, markForReinstall, setHostVars, undoMark, updateBootSettings } from "../boot/boot-settings";
import type { cancelDeployment, retryDeployment } from "../deployments/commands";
import type { getDeployment, listDeployments } from "../deployments/views";
import type { startDeployment } from "../deployments/start";
import type { allowDiskBoot, getNextBoot } from "../deployments/next-boot";
import type { acceptHost, bulkUpdateHosts, changeHostState, createHost, getHostDetail, listHosts, updateHost } from "../hosts/hosts";
import type { importHosts } from "../hosts/import";
import type { commissionHost } from "../deployments/commission";
import type { listFactVersionViews } from "../hosts/fact-versions";
import type { createImage, getImage, getImageVersion, listImages, listImageVersions, updateImage, updateImageVersion, deleteImageVersion } from "../images/images";
import type { createLease, extendLease, getLease, handOverLease, listLeases, releaseLease } from "../leases/leases";
import type { createPool, getPool, listPools, updatePool } from "../pools/pools";
import type { getPoolMatches } from "../leases/hardware";
import type { powerHost, testPowerSettings } from "../power/power";
import type { getHostPowerView, listHostPowerViews } from "../power/view";
import type { addProjectMember, createProject, getMyProjects, getProject, listProjects, updateProject } from "../projects/projects";
import type { checkHealth } from "../runtime/health";
import type { issueConsoleTicket } from "../console/console";
import type { createSite, getSite, listBootServers, listSites, updateSite } from "../sites/sites";
import type { createTemplate, diffTemplateVersions, getTemplate, listTemplates, previewTemplate, saveTemplateVersion, updateTemplate } from "../templates/templates";
import type { createCalendarFeed, listCalendarFeeds } from "../calendar/feeds";
import type { getPoolTimeline } from "../calendar/timeline";
import type * as accounts from "../validation/accounts";
import type * as calendar from "../validation/calendar";
import type * as deployments from "../validation/deployments";
import type * as records from "../validation/records";
import type { diffRunRecord, getRunRecord, listRunRecords, publishRunRecord } from "../deployments/record-access";
import type { rerunRunRecord } from "../deployments/record-rerun";
import type * as hostFacts from "../validation/host-facts";
import type * as images from "../validation/images";
import type * as inventory from "../validation/inventory";
import type * as audit from "../validation/audit";
import type * as leases from "../validation/leases";
import type * as pools from "../validation/pools";
import type * as projects from "../validation/projects";
import type * as power from "../validation/power";
import type * as sites from "../validation/sites";
import type * as templates from "../validation/templates";
import type * as vpn from "../validation/vpn";
import type { createVpnDevice, listAllVpnDevices, listMyVpnDevices } from "../vpn/devices";
import type * as extraDisks from "../validation/extra-disks";
import type { createLeaseDisks, deleteLeaseDisk, listLeaseDisks } from "../extra-disks/extra-disks";

/** Compiles only when `Answer` fits what schema `S` documents. */
type Fits<S extends z.ZodType, Answer extends z.input<S>> = [S, Answer];
type Out<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;
type Page<T> = { data: T[]; pagination: { page: number; perPage: number; total: number } };

export type ResponseContracts = [
  // Hosts
  Fits<typeof inventory.hostListResponseSchema, Out<typeof listHosts>>,
  Fits<typeof inventory.hostViewSchema, Out<typeof createHost>>,
  Fits<typeof inventory.hostDetailResponseSchema, Out<typeof getHostDetail>>,
  Fits<typeof inventory.hostViewSchema, Out<typeof updateHost>>,
  Fits<typeof inventory.hostViewSchema, Out<typeof changeHostState>>,
  Fits<typeof inventory.hostViewSchema, Out<typeof acceptHost>>,
  Fits<typeof inventory.hostBulkResponseSchema, Out<typeof bulkUpdateHosts>>,
  Fits<typeof inventory.hostImportResponseSchema, Out<typeof importHosts>>,
  Fits<typeof inventory.consoleTicketResponseSchema, Out<typeof issueConsoleTicket>>,
  // Pools, projects, leases, audit
  Fits<typeof pools.poolListResponseSchema, Page<Out<typeof listPools>[number]>>,
  Fits<typeof pools.poolViewSchema, Out<typeof createPool>>,
  Fits<typeof pools.poolWithCountSchema, Out<typeof getPool>>,
  Fits<typeof pools.poolMatchResponseSchema, Out<typeof getPoolMatches>>,
  Fits<typeof pools.poolViewSchema, Out<typeof updatePool>>,
  Fits<typeof projects.projectListResponseSchema, Page<Out<typeof listProjects>[number]>>,
  Fits<typeof projects.projectViewSchema, Out<typeof createProject>>,
  Fits<typeof projects.projectDetailSchema, Out<typeof getProject>>,
  Fits<typeof projects.projectViewSchema, Out<typeof updateProject>>,
  Fits<typeof projects.projectMemberResponseSchema, Out<typeof addProjectMember>>,
  Fits<typeof leases.leaseListResponseSchema, Out<typeof listLeases>>,
  Fits<typeof leases.leaseViewSchema, Out<typeof createLease>>,
  Fits<typeof leases.leaseDetailSchema, Out<typeof getLease>>,
  Fits<typeof leases.leaseViewSchema, Out<typeof extendLease>>,
  Fits<typeof leases.leaseViewSchema, Out<typeof releaseLease>>,
  Fits<typeof leases.leaseViewSchema, Out<typeof handOverLease>>,
  Fits<typeof audit.auditListResponseSchema, Out<typeof searchAudit>>,
  // Sites and boot servers
  Fits<typeof sites.siteListResponseSchema, Page<Out<typeof listSites>[number]>>,
  Fits<typeof sites.siteViewSchema, Out<typeof createSite>>,
  Fits<typeof sites.siteViewSchema, Out<typeof getSite>>,
  Fits<typeof sites.siteViewSchema, Out<typeof updateSite>>,
  Fits<typeof sites.bootServerListResponseSchema, { data: Out<typeof listBootServers> }>,
  // Templates and network boot
  Fits<typeof templates.templateListResponseSchema, { data: Out<typeof listTemplates> }>,
  Fits<typeof templates.templateViewSchema, Out<typeof createTemplate>>,
  Fits<typeof templates.templateDetailSchema, Out<typeof getTemplate>>,
  Fits<typeof templates.templateViewSchema, Out<typeof updateTemplate>>,
  Fits<typeof templates.templateDiffResponseSchema, { diff: Out<typeof diffTemplateVersions> }>,
  Fits<typeof templates.templateVersionResponseSchema, Out<typeof saveTemplateVersion>>,
  Fits<typeof templates.previewResponseSchema, Out<typeof previewTemplate>>,
  Fits<typeof templates.bootSettingsResponseSchema, Out<typeof getBootSettings>>,
  Fits<typeof templates.bootSettingsResponseSchema, Out<typeof updateBootSettings>>,
  Fits<typeof templates.hostVarsResponseSchema, Out<typeof setHostVars>>,
  Fits<typeof templates.reinstallMarkResponseSchema, Out<typeof markForReinstall>>,
  Fits<typeof templates.reinstallUndoResponseSchema, Out<typeof undoMark>>,
  Fits<typeof deployments.nextBootResponseSchema, Out<typeof getNextBoot>>,
  Fits<typeof deployments.nextBootResponseSchema, Out<typeof allowDiskBoot>>,
  // Images
  Fits<typeof images.imageListResponseSchema, Out<typeof listImages>>,
  Fits<typeof images.imageViewSchema, Out<typeof createImage>>,
  Fits<typeof images.imageDetailSchema, Out<typeof getImage>>,
  Fits<typeof images.imageViewSchema, Out<typeof updateImage>>,
  Fits<typeof images.imageVersionListResponseSchema, Page<Out<typeof listImageVersions>[number]>>,
  Fits<typeof images.imageVersionDetailSchema, Out<typeof getImageVersion>>,
  Fits<typeof images.imageVersionDetailSchema, Out<typeof updateImageVersion>>,
  Fits<typeof images.imageVersionDeleteResponseSchema, { ok: true } & Out<typeof deleteImageVersion>>,
  // Power
  Fits<typeof power.powerListResponseSchema, Out<typeof listHostPowerViews>>,
  Fits<typeof power.powerViewSchema, Out<typeof getHostPowerView>>,
  Fits<typeof power.powerActionResponseSchema, Out<typeof powerHost>>,
  Fits<typeof power.powerTestResponseSchema, Out<typeof testPowerSettings>>,
  // Provisioning
  Fits<typeof deployments.deploymentListResponseSchema, Out<typeof listDeployments>>,
  Fits<typeof deployments.deploymentViewSchema, Out<typeof startDeployment>>,
  Fits<typeof deployments.deploymentViewSchema, Out<typeof getDeployment>>,
  Fits<typeof deployments.deploymentViewSchema, Out<typeof cancelDeployment>>,
  Fits<typeof deployments.deploymentViewSchema, Out<typeof retryDeployment>>,
  Fits<typeof deployments.deploymentViewSchema, Out<typeof commissionHost>>,
  Fits<typeof hostFacts.factVersionListResponseSchema, { data: Out<typeof listFactVersionViews> }>,
  // Run records
  Fits<typeof records.recordViewSchema, Out<typeof getRunRecord>>,
  Fits<typeof records.recordViewSchema, Out<typeof publishRunRecord>>,
  Fits<typeof records.recordListResponseSchema, Out<typeof listRunRecords>>,
  Fits<typeof records.recordDiffSchema, Out<typeof diffRunRecord>>,
  Fits<typeof records.recordRerunResponseSchema, Out<typeof rerunRunRecord>>,
  // Calendar
  Fits<typeof calendar.timelineResponseSchema, Out<typeof getPoolTimeline>>,
  Fits<typeof calendar.calendarFeedListResponseSchema, Out<typeof listCalendarFeeds>>,
  Fits<typeof calendar.calendarFeedCreatedSchema, Out<typeof createCalendarFeed>>,
  // Lab access
  Fits<typeof vpn.vpnDeviceListResponseSchema, Out<typeof listMyVpnDevices>>,
  Fits<typeof vpn.vpnDeviceCreatedSchema, Out<typeof createVpnDevice>>,
  Fits<typeof vpn.vpnDeviceAdminListResponseSchema, Out<typeof listAllVpnDevices>>,
  // Extra disks
  Fits<typeof extraDisks.leaseDiskListSchema, Out<typeof listLeaseDisks>>,
  Fits<typeof extraDisks.leaseDiskListSchema, Out<typeof createLeaseDisks>>,
  Fits<typeof extraDisks.leaseDiskViewSchema, Out<typeof deleteLeaseDisk>>,

  // Users, account, session, system
  Fits<typeof accounts.meResponseSchema, { user: ReturnType<typeof toPublicUser>; via: CurrentUser["via"]; projects: Out<typeof getMyProjects> }>,
  Fits<typeof accounts.userListResponseSchema, Out<typeof searchUsers>>,
  Fits<typeof accounts.publicUserSchema, Out<typeof updateUserAsAdmin>>,
  Fits<typeof accounts.apiTokenListResponseSchema, { tokens: Out<typeof getApiTokens> }>,
  Fits<typeof accounts.apiTokenCreatedSchema, Out<typeof createApiToken>>,
  Fits<typeof accounts.sshKeyListResponseSchema, { keys: Out<typeof getSshKeys> }>,
  Fits<typeof accounts.sshKeyResponseSchema, Out<typeof addSshKey>>,
  Fits<typeof accounts.passwordChangeResponseSchema, { ok: true } & Out<typeof changePassword>>,
  Fits<typeof accounts.passwordResetResponseSchema, Out<typeof resetPassword>>,
  Fits<typeof accounts.registerResponseSchema, Out<typeof registerUser>>,
  Fits<typeof accounts.verifyEmailResponseSchema, Out<typeof verifyEmail>>,
  Fits<typeof accounts.firstAdminResponseSchema, Out<typeof createFirstAdmin>>,
  Fits<typeof accounts.healthResponseSchema, Out<typeof checkHealth>>,
];
