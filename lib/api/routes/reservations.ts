// The Reservations operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as common from "../../validation/common";
import * as reservations from "../../validation/reservations";
import type { ApiRoute } from "./api-route";

export const RESERVATION_ROUTES: ApiRoute[] = [
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
];
