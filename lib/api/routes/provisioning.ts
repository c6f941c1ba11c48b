// The Provisioning operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import { z } from "zod";
import * as deployments from "../../validation/deployments";
import * as deploymentGroups from "../../validation/deployment-groups";
import { deploymentGetQuerySchema, deploymentListQuerySchema, deploymentStartSchema } from "../../validation/deployments";
import { disklessCaptureResponseSchema, disklessCaptureSchema, disklessRootResponseSchema } from "../../validation/diskless";
import { HOST_ID, LEASE_ID, HOLDER_HOST_404, LEASE_404, badRequest, conflict, created, idParam, notFound, ok, paged, tagRoutes } from "./shapes";

/** The live feed's body: Server-Sent Events, `id:`, `event:` and `data:` (JSON) lines. */
const EVENT_STREAM = z.string().describe("text/event-stream");
const DEPLOYMENT_ID = idParam("run");
const DEPLOYMENT_404 = notFound("No such run, or one of a host the caller does not hold.");
const GROUP_ID = idParam("deployment group");
const GROUP_404 = notFound("No such deployment group, or one of a lease the caller does not hold.");
const NO_DISKLESS_ROOT = conflict("The host has no diskless root.");

export const PROVISIONING_ROUTES = tagRoutes("Provisioning", [
  {
    method: "GET", path: "/api/v1/hosts/{id}/deployments", operationId: "listDeployments", auth: "user", params: HOST_ID,
    summary: "A held host's provisioning runs, newest first",
    description: "Each with its steps (state, start, end, deadline, failure reason), progress (bytes, total, rate, ETA) and outcome; `lastEventId` is where the live feed (`/api/v1/hosts/{id}/events`) continues from.",
    query: deploymentListQuerySchema,
    success: paged("A page of runs, and `lastEventId`.", deployments.deploymentListResponseSchema),
    errors: [HOLDER_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/deployments", operationId: "startDeployment", auth: "user", params: HOST_ID,
    summary: "Reinstall, deploy an image to, capture or wipe a held host",
    description:
      "Checks everything before anything is powered: the caller holds the host, may read the image (and its version is ready), no other run is active, and the templates render for this host. Then Kiln powers the machine on from the network and follows each step to the end. `install` uses the given templates or the host's boot settings; the other actions boot Kiln's deploy ramdisk.",
    body: deploymentStartSchema,
    success: created("The new run, as `GET /api/v1/deployments/{id}` answers it.", deployments.deploymentViewSchema),
    errors: [badRequest("A bad choice: no template, an image that does not exist or may not be used, a version that is not ready, a template that does not render (with line and column), capturing into an image the caller does not own."), HOLDER_HOST_404, conflict("The host is not leased, or another run is active on it.")],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/diskless", operationId: "getDisklessRoot", auth: "user", params: HOST_ID,
    summary: "A held host's diskless root (docs/diskless.md)",
    description: "`{ root }`: the copy-on-write root a diskless boot (`POST …/deployments` with `diskless: true`) made, booted at every network boot until reinstall or release; `null` when none. Its NBD export's name is not shown: only the machine's boot answer carries it.",
    success: ok("`{ root }`.", disklessRootResponseSchema),
    errors: [HOLDER_HOST_404],
  },
  {
    method: "DELETE", path: "/api/v1/hosts/{id}/diskless", operationId: "releaseDisklessRoot", auth: "user", params: HOST_ID,
    summary: "Release a host's diskless root: its overlay is deleted and its export stopped",
    description: "The host boots its disk again. Also done by Kiln when the lease ends. Audited.",
    success: ok("`{ root: null }`.", disklessRootResponseSchema),
    errors: [HOLDER_HOST_404, NO_DISKLESS_ROOT],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/diskless/reinstall", operationId: "reinstallDisklessRoot", auth: "user", params: HOST_ID,
    summary: "Discard a diskless root's changes",
    description: "A new empty overlay of the same version replaces the old one (deleted); the export keeps its name and port. Reboot the machine to use it. No body. Audited.",
    success: ok("`{ root }`.", disklessRootResponseSchema),
    errors: [HOLDER_HOST_404, NO_DISKLESS_ROOT],
  },
  {
    method: "POST", path: "/api/v1/hosts/{id}/diskless/capture", operationId: "captureDisklessRoot", auth: "user", params: HOST_ID,
    summary: "Capture a diskless root as the next version of an image of your own",
    description: "The overlay with its version, flattened to a raw disk (`qemu-img convert`): its bytes equal the version's except where the machine wrote. Take it with the machine off or idle. Audited.",
    body: disklessCaptureSchema,
    success: created("The new version.", disklessCaptureResponseSchema),
    errors: [badRequest("Not an image of your own."), HOLDER_HOST_404, NO_DISKLESS_ROOT],
  },
  {
    method: "GET", path: "/api/v1/hosts/{id}/events", operationId: "followHostEvents", auth: "user", params: HOST_ID,
    summary: "Live feed of a held host's runs (Server-Sent Events)",
    description:
      "`text/event-stream`: one event per change (`created`, `step`, `progress`, `log`, `inventory`, `state`), each with an `id:`. A reconnecting client sends `Last-Event-ID` (browsers' EventSource do) and gets everything after it; `?after=` does the same for the first connection.",
    success: ok("An event stream that stays open.", EVENT_STREAM, "text/event-stream"),
    errors: [HOLDER_HOST_404],
  },
  {
    method: "GET", path: "/api/v1/deployments/{id}", operationId: "getDeployment", auth: "user", params: DEPLOYMENT_ID,
    summary: "One run: steps, progress, log",
    description: "The latest 500 log lines (or those after `logs_after`), and `lastEventId` for the live feed.",
    query: deploymentGetQuerySchema,
    success: ok("The run.", deployments.deploymentViewSchema),
    errors: [DEPLOYMENT_404],
  },
  {
    method: "POST", path: "/api/v1/deployments/{id}/cancel", operationId: "cancelDeployment", auth: "user", params: DEPLOYMENT_ID,
    summary: "Cancel a run: it ends as cancelled and the machine is switched off",
    description: "No body.",
    success: ok("The run after the change.", deployments.deploymentViewSchema),
    errors: [DEPLOYMENT_404, conflict("The run has already ended.")],
  },
  {
    method: "POST", path: "/api/v1/deployments/{id}/retry", operationId: "retryDeployment", auth: "user", params: DEPLOYMENT_ID,
    summary: "Run a failed or cancelled run again",
    description: "The same action with the same template and image versions, vars and options, as a new run. No body.",
    success: created("The new run.", deployments.deploymentViewSchema),
    errors: [DEPLOYMENT_404, conflict("The run is active or done, the host is not leased any more, or another run is active.")],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/deploy", operationId: "deployToLease", auth: "user", params: LEASE_ID,
    summary: "Deploy one image or install to all or some held hosts of a lease (a deployment group)",
    description:
      "`spec` is a run start as `POST /api/v1/hosts/{id}/deployments` takes it (`deploy_image`, `install` — which must name its system template — or `wipe_disk`); its image and template versions are pinned once, so every host gets the same. `hostIds` picks hosts of the lease (all its held hosts when left out). Each host gets its own run; a host that cannot start now (another run active, released) is listed in `refused` with the reason and the others start. A host whose run fails is retried alone until it has had `maxAttempts` runs (default 2); the group never restarts as a whole.",
    body: deploymentGroups.leaseDeploySchema,
    success: created("The group, as `GET /api/v1/deployment-groups/{id}` answers it, with `refused`.", deploymentGroups.deploymentGroupViewSchema),
    errors: [
      badRequest("A bad choice, the same for every host (an image that is not ready or may not be used, no system template, capture), or a host that is not in the lease; nothing was started."),
      LEASE_404,
      conflict("The lease has ended, or no host could start (each reason given)."),
    ],
  },
  {
    method: "GET", path: "/api/v1/deployment-groups/{id}", operationId: "getDeploymentGroup", auth: "user", params: GROUP_ID,
    summary: "A deployment group: every host's run",
    description: "Per host: its latest run's state (or `not_started`), the step it is at, bytes written, the runs it has had in the group (`attempts`) and the failure reason. The lease's holder and administrators.",
    success: ok("The group.", deploymentGroups.deploymentGroupViewSchema),
    errors: [GROUP_404],
  },
  {
    method: "POST", path: "/api/v1/deployment-groups/{id}/retry-failed", operationId: "retryFailedGroupHosts", auth: "user", params: GROUP_ID,
    summary: "Retry the failed hosts of a deployment group",
    description: "Each held host whose latest run failed or was cancelled runs again with the same versions; a host that never started starts. Hosts done or running are left alone. A person's retry is not bounded by `maxAttempts`. No body.",
    success: created("The group after the retry, with `refused`.", deploymentGroups.deploymentGroupViewSchema),
    errors: [GROUP_404, conflict("The lease has ended, no host has failed, or none could start.")],
  },
]);
