// Route handlers are wrapped once: any AppError becomes its status and the one error
// body; anything else is logged with context and answered as a plain 500.
import { NextResponse } from "next/server";
import { AppError, asAppError, isAppError, toErrorBody } from "../errors";
import { getLogger } from "../log";
import { MAX_JSON_BYTES, parseJsonText, readBodyText } from "./body";

export { HOST_IMPORT_MAX_BYTES, MAX_JSON_BYTES } from "./body";

type Handler<C> = (req: Request, ctx: C) => Promise<Response>;

export function withErrors<C>(handler: Handler<C>): Handler<C> {
  return async (req, ctx) => {
    try {
      return await handler(req, ctx);
    } catch (e) {
      return errorResponse(e, req);
    }
  };
}

export function errorResponse(e: unknown, req?: Request): Response {
  if (!isAppError(e)) {
    // Next's redirect()/notFound() signal with throws; let them through.
    if (e && typeof e === "object" && "digest" in e && typeof e.digest === "string" && e.digest.startsWith("NEXT_")) throw e;
    // Bad input that got past validation to PostgreSQL is still the caller's 400 (toErrorBody
    // maps it); logged louder than a plain refusal, since validation should have caught it.
    if (asAppError(e)) getLogger("http").warn({ err: e, method: req?.method, url: req?.url }, "bad input reached the database");
    else getLogger("http").error({ err: e, method: req?.method, url: req?.url }, "unhandled error in route handler");
  }
  const { status, body } = toErrorBody(e);
  const res = NextResponse.json(body, { status });
  const retry = isAppError(e) ? e.details?.retryAfterSeconds : undefined;
  if (retry) res.headers.set("Retry-After", String(retry));
  return res;
}

/**
 * Reads a JSON body, answering 400 with a readable message when it is not JSON. Requiring
 * the JSON content type also means a cross-site HTML form (which cannot send it without a
 * CORS preflight) can never drive these endpoints.
 */
export async function readJson(req: Request, limit = MAX_JSON_BYTES): Promise<unknown> {
  if (!req.headers.get("content-type")?.toLowerCase().startsWith("application/json")) {
    throw new AppError("bad_request", "Send the request body as JSON, with the header Content-Type: application/json.");
  }
  // Counted as it streams (a chunked body declares no length), nesting bounded before the
  // parse, NUL and unpaired surrogates refused with their field: lib/http/body.ts.
  return parseJsonText(await readBodyText(req, limit));
}

export function ok(data: unknown, status = 200): Response {
  return NextResponse.json(data, { status });
}
