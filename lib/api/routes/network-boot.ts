// The Network boot operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as deployments from "../../validation/deployments";
import * as power from "../../validation/power";
import * as templates from "../../validation/templates";
import { powerActionSchema } from "../../validation/power";
import { bootSettingsSchema, hostVarsSchema } from "../../validation/templates";
import { HOST_ID, HOLDER_HOST_404, badRequest, conflict, created, notFound, ok, tagRoutes, unavailable } from "./shapes";

export const NETWORK_BOOT_ROUTES = tagRoutes("Network boot", [
  {
    method: "GET", path: "/api/v1/hosts/{id}/boot", operationId: "getBootSettings", auth: "user", params: HOST_ID,
    summary: "A held host's boot settings and what its next boot does",
    success: ok("The settings and a description of the next boot.", templates.bootSettingsResponseSchema),
    errors: [HOLDER_HOST_404],
  },
  {
    method: "PUT", path: "/api/v1/hosts/{id}/boot", operationId: "updateBootSettings", auth: "user", params: HOST_ID,
    summary: "Choose a held host's templates, variables and boot interface",
    body: bootSettingsSchema,
    success: ok("The settings after the change.", templates.bootSettingsResponseSchema),
    errors: [HOLDER_HOST_404],
  },
  {
    method: "PUT", path: "/api/v1/hosts/{id}/vars", operationId: "setHostVars", auth: "admin", params: HOST_ID,
    summary: "Set a host's own template variables (a lease's variables override them)",
    body: hostVarsSchema,
    success: ok("The host's variables.", templates.hostVarsResponseSchema),
    errors: [notFound("No such host.")],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/reinstall", operationId: "markForReinstall", auth: "user", params: HOST_ID,
    summary: "Mark a held host for reinstall with its boot settings",
    description: "The next network boot installs it; the mark holds until the install reports done, or is undone. No body.",
    success: created("`{ deploymentId, nextBoot }`.", templates.reinstallMarkResponseSchema),
    errors: [badRequest("No system template is chosen for this host yet."), HOLDER_HOST_404, conflict("The host is not leased, or is already marked.")],
  },
  {
    method: "DELETE", path: "/api/v1/hosts/{id}/reinstall", operationId: "undoReinstallMark", auth: "user", params: HOST_ID,
    summary: "Undo a reinstall mark",
    success: ok("`{ nextBoot }`.", templates.reinstallUndoResponseSchema),
    errors: [HOLDER_HOST_404, conflict("The host is not marked.")],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/next-boot", operationId: "getNextBoot", auth: "user", params: HOST_ID,
    summary: "What a held host does at its next network boot",
    description: "`{ kind: \"run\", deploymentId, action }` (its active run), `{ kind: \"diskless\", imageId, imageVersion, deploymentId, resetAt }` (its live diskless root, docs/diskless.md), `{ kind: \"disk\" }` (local boot), or `{ kind: \"halt\", deploymentId, reason, state }`: the last deploy failed or was cancelled after its write started, so Kiln answers a halt script instead of booting a partial disk.",
    success: ok("The decision.", deployments.nextBootResponseSchema),
    errors: [HOLDER_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/next-boot", operationId: "allowDiskBoot", auth: "user", params: HOST_ID,
    summary: "Boot the disk anyway: end a halt after a failed or cancelled write",
    description: "Recorded on the failed run, the host's timeline and the audit log. A new run also ends the halt once it has written the disk. No body.",
    success: ok("The next boot after the change (`{ kind: \"disk\" }`).", deployments.nextBootResponseSchema),
    errors: [HOLDER_HOST_404, conflict("The host is not halted, or has an active run.")],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/power", operationId: "getHostPower", auth: "user", params: HOST_ID,
    summary: "A held host's power state",
    description: "As the worker last read it (every KILN_POWER_POLL_SECONDS) or the last power action left it. Manual and Wake-on-LAN hosts are always `unknown`, with why.",
    success: ok("`{ hostId, driver, state, message, checkedAt, changedAt, reportsState, canPowerOff, networkBoot: override|always|null }`.", power.powerViewSchema),
    errors: [HOLDER_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/power", operationId: "powerHost", auth: "user", params: HOST_ID,
    summary: "Switch a held host on, off or power-cycle it, or ask its power state",
    description: "Through the host's power driver (manual, Wake-on-LAN, IPMI, Redfish, plugin, qemu). `bootFromNetwork: true` with on or cycle makes the next boot a network boot (IPMI bootdev pxe, Redfish boot override; 400 for drivers that cannot). A driver that cannot do it answers 503 with the reason.",
    body: powerActionSchema,
    success: ok("`{ state: on|off|unknown, message, log }`.", power.powerActionResponseSchema),
    errors: [HOLDER_HOST_404, unavailable("The power driver failed (BMC unreachable, wrong password, Wake-on-LAN cannot switch off, plugin failed or timed out).")],
  },
]);
