// The Reservations operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as reservations from "../../validation/reservations";
import { OK_TRUE, conflict, created, forbidden, idParam, notFound, ok, paged, tagRoutes } from "./shapes";

const RESERVATION_ID = idParam("reservation");
const RESERVATION_404 = notFound("No such reservation, or not the caller's.");

export const RESERVATION_ROUTES = tagRoutes("Reservations", [
  {
    method: "GET", path: "/api/v1/reservations", operationId: "listReservations", auth: "user",
    summary: "List reservations",
    description: "`scope=mine` (the default) lists the caller's reservations; `scope=all` is for administrators. Filters: `poolId`, `state`, and `from`/`to` (reservations whose time, preparation included, overlaps them). Scheduled and running ones first, by start.",
    query: reservations.reservationListQuerySchema,
    success: paged("A page of reservations, each with its hosts (replaced ones included).", reservations.reservationListResponseSchema),
    errors: [forbidden("`scope=all` asked by someone who is not an administrator.")],
  },
  {
    method: "POST", path: "/api/v1/reservations", operationId: "createReservation", auth: "user",
    summary: "Reserve hosts ahead",
    description:
      "Ask for `count` hosts of a pool (optionally with `tags` and the lease hardware filter: minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps), or name `hostIds`, " +
      "from `startsAt` to `endsAt` (ISO 8601), charged to a project you belong to (`projectId` may be left out when you belong to exactly one; administrators may reserve for `userId`). " +
      "A start more than a minute in the past is refused (lease instead). With `deploy` (an install or deploy_image run start, as `POST /hosts/{id}/deployments`), the image and template versions are pinned now " +
      "and the hosts are taken earlier by the measured deploy lead (`prepareFrom`, `plan`) so they are ready at the start. " +
      "Admitted only if enough hosts are free for the whole of [prepareFrom, endsAt) — no lease, reservation or maintenance window — and within the project's quotas: length (the stricter of pool and project), " +
      "how far ahead (maxAdvanceDays), node-hours in each month touched (leases and reservations), and hosts at once (the peak over the interval). All or nothing; race-free.",
    body: reservations.reservationCreateSchema,
    success: created("The reservation with its chosen hosts.", reservations.reservationViewSchema),
    errors: [
      forbidden("quota_exceeded: maxLeaseHours, maxAdvanceDays, maxNodeHoursPerMonth (which month, used, needed) or maxHosts (the peak); or the caller belongs to no project."),
      conflict("insufficient_capacity: how many hosts are free for the whole time, and what is in the way (`details.conflicts`: host, lease/reservation/maintenance, project, from, to — never a person); or a named host is not in service."),
    ],
  },
  {
    method: "GET", path: "/api/v1/reservations/{id}", operationId: "getReservation", auth: "user", params: RESERVATION_ID,
    summary: "A reservation with its hosts, plan, outcome and history",
    success: ok("The reservation; `history` is its audit trail, oldest first.", reservations.reservationDetailSchema),
    errors: [RESERVATION_404],
  },
  {
    method: "DELETE", path: "/api/v1/reservations/{id}", operationId: "cancelReservation", auth: "user", params: RESERVATION_ID,
    summary: "Cancel a reservation",
    description: "Its holder or an administrator. Before the start its booked time is freed; once started, its lease is released too (hosts wiped and returned, as any release).",
    success: ok("The cancelled reservation.", reservations.reservationViewSchema),
    errors: [RESERVATION_404, conflict("It has already ended, failed or been cancelled.")],
  },
  {
    method: "GET", path: "/api/v1/maintenance-windows", operationId: "listMaintenanceWindows", auth: "user",
    summary: "List maintenance windows",
    description: "Filters: `poolId` (the pool's windows and its hosts'), `hostId` (the host's and its pool's), `from`/`to` (overlapping).",
    query: reservations.maintenanceWindowListQuerySchema,
    success: paged("A page of windows, by start.", reservations.maintenanceWindowListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/maintenance-windows", operationId: "createMaintenanceWindow", auth: "admin",
    summary: "Take a pool or a host out of service for a time",
    description:
      "`poolId` or `hostId`, `startsAt`, `endsAt`, `reason`. No lease or reservation may overlap it afterwards. Scheduled reservations with hosts under it get other hosts chosen (`affectedReservations`; `short` when none was free, and their holders are mailed). " +
      "Refused when active leases hold hosts in that time, unless `force` (those leases are not touched; `overlappingLeases` lists them).",
    body: reservations.maintenanceWindowCreateSchema,
    success: created("`{ window, affectedReservations, overlappingLeases }`.", reservations.maintenanceWindowCreateResponseSchema),
    errors: [conflict("Active leases hold hosts in that time (named by project), and `force` was not given.")],
  },
  {
    method: "DELETE", path: "/api/v1/maintenance-windows/{id}", operationId: "deleteMaintenanceWindow", auth: "admin", params: idParam("window"),
    summary: "Remove a maintenance window",
    success: OK_TRUE,
    errors: [notFound("No such window.")],
  },
]);
