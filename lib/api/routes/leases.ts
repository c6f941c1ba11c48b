// The Leases operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as deployments from "../../validation/deployments";
import * as leases from "../../validation/leases";
import * as extraDisks from "../../validation/extra-disks";
import { leaseCreateSchema, leaseExtendSchema, leaseHandOverSchema, leaseListQuerySchema } from "../../validation/leases";
import { leaseCaptureSchema } from "../../validation/lease-end";
import { LEASE_ID, LEASE_404, badRequest, conflict, created, forbidden, idParam, notFound, ok, paged, tagRoutes } from "./shapes";

const LEASE_ENDED = conflict("The lease has already ended.");

export const LEASE_ROUTES = tagRoutes("Leases", [
  {
    method: "GET", path: "/api/v1/leases", operationId: "listLeases", auth: "user",
    summary: "List leases",
    description: "`scope=mine` (the default) lists the caller's leases; `scope=all`, with the filters, is for administrators.",
    query: leaseListQuerySchema,
    success: paged("A page of leases, newest first, each with its hosts.", leases.leaseListResponseSchema),
    errors: [forbidden("`scope=all` asked by someone who is not an administrator.")],
  },
  {
    method: "POST", path: "/api/v1/leases", operationId: "createLease", auth: "user",
    summary: "Lease hosts",
    description:
      "Ask for `count` hosts from a pool (optionally with tags and hardware: minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps; " +
      "a host with no facts yet, never commissioned, meets no hardware criterion), charged to a project you belong to " +
      "(`projectId` may be left out when you belong to exactly one). The duration defaults to the pool's and may not exceed the " +
      "pool's or the project's maximum. All or nothing: when fewer hosts are free than asked for, nothing is leased. " +
      "Administrators may instead allocate given `hostIds`, and lease on someone's behalf (`userId`).",
    body: leaseCreateSchema,
    success: created("The lease with its hosts.", leases.leaseViewSchema),
    errors: [
      forbidden("quota_exceeded (hosts at once, lease length, node-hours this month), or the caller belongs to no project."),
      conflict("insufficient_capacity: not enough matching hosts are available right now; nothing was leased. With hardware criteria the message (and `details`) says how many hosts are free, how many meet each criterion, and how many have no facts yet."),
    ],
  },
  {
    method: "GET", path: "/api/v1/leases/{id}", operationId: "getLease", auth: "user", params: LEASE_ID,
    summary: "A lease with its hosts and events",
    success: ok("The lease.", leases.leaseDetailSchema),
    errors: [LEASE_404],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/extend", operationId: "extendLease", auth: "user", params: LEASE_ID,
    summary: "Extend a lease",
    description: "Within the pool's and project's maximum lease length and the project's node-hours.",
    body: leaseExtendSchema,
    success: ok("The lease with its new end.", leases.leaseViewSchema),
    errors: [LEASE_404, forbidden("quota_exceeded: the lease would be too long, or the project's node-hours would be exceeded."), LEASE_ENDED],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/release", operationId: "releaseLease", auth: "user", params: LEASE_ID,
    summary: "Release a lease early",
    description: "Its hosts are powered off, wiped and returned to their pool. No body.",
    success: ok("The ended lease.", leases.leaseViewSchema),
    errors: [LEASE_404, LEASE_ENDED],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/capture", operationId: "captureLeaseDisk", auth: "user", params: LEASE_ID,
    summary: "Capture a held host's disk into an image before it is wiped (the staged end's offer)",
    description:
      "Starts a `capture_disk` run on `hostId`, a host of this lease, into `imageId` (an image you own; the capture becomes its next version) or into a new private image named `newImageName`. Allowed while the lease is active: before its end and during its pool's grace period (`endGraceMinutes`), when it is the only run allowed; the lease then moves to `capturing`, and its release waits for the run (at most 4 hours past the end) before power-off and wipe.",
    body: leaseCaptureSchema,
    success: created("The capture run, as `GET /api/v1/deployments/{id}` answers it.", deployments.deploymentViewSchema),
    errors: [badRequest("Not a host of this lease, no image chosen (or both), or an image the caller does not own."), LEASE_404, conflict("The lease has ended, or another run is active on the host.")],
  },
  {
    method: "GET", path: "/api/v1/leases/{id}/disks", operationId: "listLeaseDisks", auth: "user", params: LEASE_ID,
    query: extraDisks.leaseDiskListQuerySchema,
    summary: "List a lease's extra disks",
    description: "The extra disks asked for on the lease's hosts (live ones; `history=true` also those already wiped), and this Kiln's limits. A disk's NBD export name is a secret and is not listed: the host's rendered templates get it (`extra_disks`).",
    success: ok("The disks and the limits.", extraDisks.leaseDiskListSchema),
    errors: [LEASE_404],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/disks", operationId: "createLeaseDisks", auth: "user", params: LEASE_ID,
    summary: "Ask for extra disks for a host of the lease",
    description:
      "Creates `count` empty disks of `sizeGb` each for `hostId` (a host of this active lease): sparse files on Kiln, exported over NBD to that machine only (a secret export name, given to its templates as `extra_disks`). Each disk counts at its full size against the holder's and the project's storage quotas until it is wiped. They are wiped (export stopped, file deleted) when the host leaves the lease. Audited.",
    body: extraDisks.leaseDisksCreateSchema,
    success: created("The new disks (state `creating` until the worker has made and exported them, within seconds).", extraDisks.leaseDiskListSchema),
    errors: [
      badRequest("A bad count or size, a disk larger than KILN_EXTRA_DISK_MAX_GB, or a host that is not held under this lease."),
      forbidden("quota_exceeded: more disks than a host may have (KILN_EXTRA_DISKS_PER_HOST), or the holder's or the project's storage quota would be exceeded; forbidden: extra disks are switched off."),
      LEASE_404,
      conflict("The lease has ended."),
    ],
  },
  {
    method: "DELETE", path: "/api/v1/leases/{id}/disks/{diskId}", operationId: "deleteLeaseDisk", auth: "user", params: { ...LEASE_ID, ...idParam("disk", "diskId") },
    summary: "Delete an extra disk",
    description: "Its export stops and its file is deleted (by the worker, within seconds); it no longer counts against the quotas once wiped. Audited.",
    success: ok("The disk, now `wiping`.", extraDisks.leaseDiskViewSchema),
    errors: [notFound("No such lease or disk, or not the caller's."), conflict("The disk is already being wiped.")],
  },
  {
    method: "POST", path: "/api/v1/leases/{id}/handover", operationId: "handOverLease", auth: "user", params: LEASE_ID,
    summary: "Hand a lease, or one host of it, to another member of its project",
    description: "With `hostId`, that host moves to a new lease of the receiver with the same end; the host stays leased throughout.",
    body: leaseHandOverSchema,
    success: ok("The lease the receiver now holds.", leases.leaseViewSchema),
    errors: [LEASE_404, LEASE_ENDED],
  },
]);
