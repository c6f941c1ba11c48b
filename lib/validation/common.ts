import { z } from "zod";
// Side effect: the global error map, installed wherever a schema is (every schema module imports this one).
import "./error-map";

export const uuidSchema = z.uuid("Not a valid id.");

/** The largest value of a PostgreSQL `integer` column (versions, counts, quotas, hours). */
export const INT32_MAX = 2_147_483_647;

/** A positive whole number that fits an `integer` column (a version, a count). */
export const positiveInt32Schema = z.number().int().min(1).max(INT32_MAX, `Use a number up to ${INT32_MAX}.`);

/**
 * A date from a person: PostgreSQL and JavaScript both take years far beyond any that makes
 * sense (and disagree at the edges: a year 200000 is a Date here and an error there), so only
 * 1970–9999 is accepted.
 */
export const dateInputSchema = z.coerce
  .date({ error: "Use an ISO 8601 date or time, like 2026-01-31 or 2026-01-31T12:00:00Z." })
  .refine((d) => d.getUTCFullYear() >= 1970 && d.getUTCFullYear() <= 9999, "Use a date between the years 1970 and 9999.");

/** `?page=&per_page=` — the same pagination on every list endpoint. */
export const paginationSchema = z.object({
  // Bounded so that the offset (page × per_page) stays far inside PostgreSQL's bigint.
  page: z.coerce.number().int().min(1, "page starts at 1").max(1_000_000, "page is at most 1000000").default(1),
  per_page: z.coerce.number().int().min(1).max(500, "per_page is at most 500").default(50),
});
export type Pagination = z.infer<typeof paginationSchema>;

export function paginated<T>(data: T[], p: Pagination, total: number) {
  return { data, pagination: { page: p.page, perPage: p.per_page, total } };
}

export const nameSchema = z
  .string()
  .trim()
  .min(1, "Give it a name.")
  .max(63, "Use at most 63 characters.")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Use letters, digits, dots, dashes and underscores, starting with a letter or digit.");

export const tagSchema = z
  .string()
  .trim()
  .min(1)
  .max(40, "Tags are at most 40 characters.")
  .regex(/^[a-z0-9][a-z0-9._:=-]*$/, "Tags use lower-case letters, digits and . _ : = -");

// Responses. The OpenAPI document describes each operation's answer with these (lib/api/
// routes.ts), and lib/api/response-contracts.ts checks at compile time that what lib/ returns
// fits them, so the document cannot promise a field the handler does not send.

/** A time in an answer: ISO 8601 on the wire; lib/ may hand over a Date or the string (JSON makes them the same). */
export const timestampSchema = z.union([z.string(), z.date()]);

export const okResponseSchema = z.object({ ok: z.literal(true) });

export const paginationResponseSchema = z.object({ page: z.number().int(), perPage: z.number().int(), total: z.number().int() });

/** `{ data, pagination }`, the answer of every paged list. */
export function paginatedResponseSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), pagination: paginationResponseSchema });
}

// The API says run where the table says deployment (docs/architecture.md, "run / deployment").
export { DEPLOYMENT_ACTIONS as RUN_ACTIONS, DEPLOYMENT_STATES as RUN_STATES } from "@/db/schema/enums";
/** What a host's latest run makes it (lib/hosts/state-machine.ts provisioningStateOf); `none`: no run yet. */
export const PROVISIONING_STATES = ["none", "deploying", "deployed", "wiping", "wiped", "capturing", "captured", "commissioning", "commissioned", "failed", "cancelled"] as const;
export const recordSchema = z.record(z.string(), z.unknown());
