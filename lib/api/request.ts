// Small parsing helpers shared by the /api/v1 route handlers, so every endpoint answers a
// bad query, a bad path id or a missing body the same way.
import type { z } from "zod";
import { AppError } from "../errors";
import { badStringError, badStringReason, MAX_JSON_BYTES, readBodyText } from "../http/body";
import { readJson } from "../http/handler";
import { fieldErrorsOf } from "../validation/accounts";
import { paginated, uuidSchema, type Pagination } from "../validation/common";
import { versionParamSchema, type VersionRef } from "../validation/images";

export type IdContext<K extends string = "id"> = { params: Promise<Record<K, string>> };

/**
 * The query string as a plain object for the zod query schemas, which drop keys they do
 * not know (so an unknown parameter is ignored) and coerce the rest. A bad value is a 400
 * whose message names the parameter, since the caller cannot see which field a form shows it under.
 */
export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const query = Object.fromEntries(new URL(req.url).searchParams);
  for (const [key, value] of Object.entries(query)) {
    const reason = badStringReason(key) ?? badStringReason(value);
    if (reason) {
      const field = badStringReason(key) ? "query" : key;
      throw badStringError(field, reason, field === "query" ? "A query parameter's name" : `Query parameter ${field}`);
    }
  }
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const fieldErrors = fieldErrorsOf(result.error);
  const [field, messages] = Object.entries(fieldErrors)[0] ?? ["query", ["is not valid."]];
  throw new AppError("validation", `Query parameter ${field}: ${messages[0]}`, { fieldErrors });
}

/**
 * A path id that is not a UUID cannot name anything: answered 404 with the same message as an
 * unknown id (rather than letting PostgreSQL reject the cast as a 500).
 */
export async function idParam<K extends string>(ctx: IdContext<K>, key: K, notFound: string): Promise<string> {
  const value = (await ctx.params)[key];
  if (!uuidSchema.safeParse(value).success) throw new AppError("not_found", notFound);
  return value;
}

/** For actions whose body is optional (accept, release): no body at all reads as `{}`. */
export async function readOptionalJson(req: Request): Promise<unknown> {
  const bare = !req.headers.get("content-type") && Number(req.headers.get("content-length") ?? 0) === 0;
  if (bare && (await readBodyText(req, MAX_JSON_BYTES)) === "") return {};
  // Anything else must be proper JSON; readJson says what is wrong (it checks the type before reading).
  return readJson(req);
}

/**
 * One page of a list the domain returns whole (pools, projects: tens of rows, ordered by
 * name), in the same `{ data, pagination }` shape as the lists paged in SQL.
 */
export function pageOf<T>(items: T[], p: Pagination) {
  const start = (p.page - 1) * p.per_page;
  return paginated(items.slice(start, start + p.per_page), p, items.length);
}

/** A version in a path: a positive number or `latest`; anything else names nothing (404). */
export async function versionParam<K extends string>(ctx: IdContext<K>, key: K, notFound: string): Promise<VersionRef> {
  const result = versionParamSchema.safeParse((await ctx.params)[key]);
  if (!result.success) throw new AppError("not_found", notFound);
  return result.data;
}
