// The calendar's contracts: a pool's timeline, and ICS feed tokens.
import { z } from "zod";
import { HOST_STATES } from "@/db/schema/enums";
import { dateInputSchema, timestampSchema, uuidSchema } from "./common";

/** The longest span one timeline request may cover: a month view and then some. */
export const TIMELINE_MAX_DAYS = 62;

export const timelineQuerySchema = z
  .object({
    from: dateInputSchema.optional().describe("Start of the span (ISO 8601). Default: now, rounded down to the hour."),
    to: dateInputSchema.optional().describe("End of the span. Default: 7 days after `from`."),
  })
  .refine((q) => !q.from || !q.to || q.to > q.from, { message: "to must be after from.", path: ["to"] })
  .refine((q) => !q.from || !q.to || q.to.getTime() - q.from.getTime() <= TIMELINE_MAX_DAYS * 86400_000, {
    message: `Ask for at most ${TIMELINE_MAX_DAYS} days at once.`,
    path: ["to"],
  });
export type TimelineQuery = z.infer<typeof timelineQuerySchema>;

export const TIMELINE_KINDS = ["lease", "reservation", "maintenance"] as const;

export const timelineItemSchema = z.object({
  kind: z.enum(TIMELINE_KINDS),
  id: z.string().describe("The lease's, reservation's or maintenance window's id; a booking of several hosts is one item per host, with the same id."),
  hostId: z.string().nullable().describe("Null for a maintenance window of the whole pool."),
  startsAt: timestampSchema.describe("When the host is taken (for a reservation that deploys first, its preparation start)."),
  endsAt: timestampSchema,
  projectName: z.string().nullable().describe("The project charged; never the person (null for maintenance)."),
  mine: z.boolean().describe("The caller holds it."),
  title: z.string().nullish().describe("A reservation's title (to its holder and administrators), or a maintenance window's reason."),
  state: z.string().nullish(),
});
export type TimelineItem = z.infer<typeof timelineItemSchema>;

export const timelineResponseSchema = z.object({
  pool: z.object({ id: z.string(), name: z.string() }),
  from: timestampSchema,
  to: timestampSchema,
  hosts: z.array(z.object({ id: z.string(), name: z.string(), state: z.enum(HOST_STATES) })),
  items: z.array(timelineItemSchema),
});

export const calendarFeedCreateSchema = z
  .object({ poolId: uuidSchema.nullish().describe("A pool's bookings; left out: the caller's own leases and reservations.") })
  .strict();

export const calendarFeedViewSchema = z.object({
  id: z.string(),
  poolId: z.string().nullable(),
  poolName: z.string().nullable(),
  createdAt: timestampSchema,
  lastUsedAt: timestampSchema.nullable(),
});

export const calendarFeedCreatedSchema = calendarFeedViewSchema.extend({
  url: z.string().describe("The feed's address, with its secret: shown this once. Subscribe to it in a calendar client."),
});

export const calendarFeedListResponseSchema = z.object({ data: z.array(calendarFeedViewSchema) });
