// Route handlers are wrapped once: any AppError becomes its status and the one error
// body; anything else is logged with context and answered as a plain 500.
import { NextResponse } from "next/server";
import { AppError, isAppError, toErrorBody } from "../errors";
import { getLogger } from "../log";

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
    getLogger("http").error({ err: e, method: req?.method, url: req?.url }, "unhandled error in route handler");
  }
  const { status, body } = toErrorBody(e);
  const res = NextResponse.json(body, { status });
  const retry = isAppError(e) ? e.details?.retryAfterSeconds : undefined;
  if (retry) res.headers.set("Retry-After", String(retry));
  return res;
}

/** JSON bodies are small (uploads go through tus): 1 MiB is far above any real request. */
export const MAX_JSON_BYTES = 1024 * 1024;

function tooLarge(): AppError {
  return new AppError("payload_too_large", `The request body is larger than ${MAX_JSON_BYTES / 1024} KiB.`);
}

/**
 * Reads a JSON body, answering 400 with a readable message when it is not JSON. Requiring
 * the JSON content type also means a cross-site HTML form (which cannot send it without a
 * CORS preflight) can never drive these endpoints.
 */
export async function readJson(req: Request): Promise<unknown> {
  if (!req.headers.get("content-type")?.toLowerCase().startsWith("application/json")) {
    throw new AppError("bad_request", "Send the request body as JSON, with the header Content-Type: application/json.");
  }
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > MAX_JSON_BYTES) throw tooLarge();
  const text = await req.text();
  if (Buffer.byteLength(text) > MAX_JSON_BYTES) throw tooLarge();
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("bad_request", "The request body must be JSON.");
  }
}

export function ok(data: unknown, status = 200): Response {
  return NextResponse.json(data, { status });
}
