// Contracts for sites and boot servers: route handlers, the admin forms and the API document.
import { z } from "zod";
import { nameSchema, paginatedResponseSchema, timestampSchema } from "./common";

/**
 * How a site's machines reach its boot server: http(s), no credentials, query or fragment
 * (templates append paths to it). Stored without a trailing slash. Empty or null: KILN_BOOT_URL.
 */
export const bootUrlSchema = z
  .string()
  .trim()
  .max(500, "Use at most 500 characters.")
  .transform((s, ctx) => {
    if (s === "") return null;
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      ctx.addIssue({ code: "custom", message: "Not a URL; expected something like http://10.2.0.5:8080." });
      return z.NEVER;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") ctx.addIssue({ code: "custom", message: "Use an http:// or https:// URL (iPXE fetches from it)." });
    else if (u.username || u.password) ctx.addIssue({ code: "custom", message: "Machines cannot send credentials; leave the user and password out." });
    else if (u.search || u.hash) ctx.addIssue({ code: "custom", message: "Leave out the query and fragment: Kiln appends paths such as /boot/… to this URL." });
    else return `${u.origin}${u.pathname}`.replace(/\/+$/, "");
    return z.NEVER;
  })
  .nullable();

export const siteCreateSchema = z.object({
  name: nameSchema,
  bootUrl: bootUrlSchema.default(null),
  description: z.string().max(2000).default(""),
});
export type SiteCreate = z.infer<typeof siteCreateSchema>;

export const siteUpdateSchema = z.object({
  name: nameSchema.optional(),
  bootUrl: bootUrlSchema.optional(),
  description: z.string().max(2000).optional(),
});
export type SiteUpdate = z.infer<typeof siteUpdateSchema>;

// Responses (see ./common.ts).
export const siteViewSchema = z.object({ id: z.string(), name: z.string(), bootUrl: z.string().nullable(), description: z.string(), hostCount: z.number().int(), isDefault: z.boolean(), createdAt: timestampSchema });
export const siteListResponseSchema = paginatedResponseSchema(siteViewSchema);
export const bootServerListResponseSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      siteId: z.string(),
      siteName: z.string(),
      url: z.string(),
      version: z.string(),
      pid: z.number().int().nullable(),
      status: z.enum(["up", "late", "down", "stopped"]),
      startedAt: timestampSchema,
      lastHeartbeatAt: timestampSchema,
      secondsSinceHeartbeat: z.number(),
      stoppedAt: timestampSchema.nullable(),
      requestsPerSecond: z.number(),
      intervalRequests: z.number().int(),
      intervalErrors: z.number().int(),
      memoryRatio: z.number().nullable(),
      p99Ms: z.number().nullable(),
      totalRequests: z.number(),
      totalErrors: z.number(),
      dbReachable: z.boolean(),
    }),
  ),
});
