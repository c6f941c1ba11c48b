// The Calendar operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as calendar from "../../validation/calendar";
import { POOL_ID, OK_TRUE, badRequest, created, idParam, notFound, ok, tagRoutes } from "./shapes";

export const CALENDAR_ROUTES = tagRoutes("Calendar", [
  {
    method: "GET", path: "/api/v1/pools/{id}/timeline", operationId: "getPoolTimeline", auth: "user", params: POOL_ID,
    summary: "A pool's timeline: its hosts, and who holds each when",
    description:
      "Leases, reservations and maintenance windows overlapping `[from, to)` (default: the 7 days from the current hour; at most 62 days). " +
      "A lease or reservation of several hosts is one item per host, with the same id; a maintenance window of the whole pool has `hostId: null`. " +
      "Everyone signed in sees every booking, by project: the person holding it is never named (`mine` marks the caller's own), and a reservation's title is shown to its holder and administrators only.",
    query: calendar.timelineQuerySchema,
    success: ok("`{ pool, from, to, hosts, items }`.", calendar.timelineResponseSchema),
    errors: [notFound("No such pool.")],
  },
  {
    method: "GET", path: "/api/v1/calendar-feeds", operationId: "listCalendarFeeds", auth: "user",
    summary: "The caller's ICS feeds",
    description: "Without their addresses: a feed's secret is shown once, when it is made.",
    success: ok("`{ data }`.", calendar.calendarFeedListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/calendar-feeds", operationId: "createCalendarFeed", auth: "user",
    summary: "Make an ICS feed address",
    description:
      "`poolId` left out: the caller's own leases and reservations; with it: the pool's bookings (projects, never people) and maintenance. " +
      "One feed per caller and scope: making it again replaces the old address, which stops working. The answer's `url` (`/calendar/<token>.ics`, read without signing in) is shown this once. Audited.",
    body: calendar.calendarFeedCreateSchema, bodyOptional: true,
    success: created("The feed, with its `url`.", calendar.calendarFeedCreatedSchema),
    errors: [badRequest("No such pool.")],
  },
  {
    method: "DELETE", path: "/api/v1/calendar-feeds/{id}", operationId: "revokeCalendarFeed", auth: "user", params: idParam("feed"),
    summary: "Revoke an ICS feed",
    description: "Its address answers 404 from now on. Audited.",
    success: OK_TRUE,
    errors: [notFound("No such feed of the caller's.")],
  },
]);
