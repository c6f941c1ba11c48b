// The shapes every tag's operations repeat, so an entry spells out only what is particular to it.
// The builders are named for what they declare (an answer's or a refusal's HTTP meaning), not
// verb-noun: an entry reads `errors: [notFound(…), conflict(…)]`, as the document will.
import type { z } from "zod";
import * as common from "../../validation/common";
import type { ApiResponse, ApiRoute, ApiTag } from "./api-route";

type Success = ApiRoute["success"];

/** A file's operations all carry its tag; it is written once, here, instead of on each entry. */
export function tagRoutes(tag: ApiTag, routes: Omit<ApiRoute, "tag">[]): ApiRoute[] {
  return routes.map((route) => ({ ...route, tag }));
}

/** 200 with a body of `schema`; `contentType` for answers that are not JSON (text, event streams). */
export function ok(description: string, schema: z.ZodType, contentType?: string): Success {
  return contentType ? { status: 200, description, schema, contentType } : { status: 200, description, schema };
}

export function created(description: string, schema: z.ZodType): Success {
  return { status: 201, description, schema };
}

export function accepted(description: string, schema: z.ZodType): Success {
  return { status: 202, description, schema };
}

/** 200 with one page of a list: `schema` is the `{ data, pagination }` contract. */
export function paged(description: string, schema: z.ZodType): Success {
  return { status: 200, description, list: true, schema };
}

/** The answer of a change that returns nothing but its success. */
export const OK_TRUE = ok("`{ ok: true }`.", common.okResponseSchema);

// Refusals particular to an operation (400/401/403/413 that follow from auth, query and body are
// added by lib/api/openapi.ts; one given here joins them).
export const badRequest = (description: string): ApiResponse => ({ status: 400, description });
export const unauthorized = (description: string): ApiResponse => ({ status: 401, description });
export const forbidden = (description: string): ApiResponse => ({ status: 403, description });
export const notFound = (description: string): ApiResponse => ({ status: 404, description });
export const conflict = (description: string): ApiResponse => ({ status: 409, description });
export const gone = (description: string): ApiResponse => ({ status: 410, description });
export const tooManyRequests = (description: string): ApiResponse => ({ status: 429, description });
export const unavailable = (description: string): ApiResponse => ({ status: 503, description });

/** A path parameter naming a record by its UUID: `idParam("host")` → `{ id: "The host's id (a UUID)." }`. */
export function idParam(noun: string, name = "id"): Record<string, string> {
  return { [name]: `The ${noun}'s id (a UUID).` };
}

// Shared by several tags: the host, pool, lease and project most operations hang off.
export const HOST_ID = idParam("host");
export const POOL_ID = idParam("pool");
export const LEASE_ID = idParam("lease");
export const HOLDER_HOST_404 = notFound("No such host, or not one the caller holds.");
export const LEASE_404 = notFound("No such lease, or not the caller's.");
export const PROJECT_404 = notFound("No such project, or the caller is not a member.");
