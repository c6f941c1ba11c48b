// Who is calling: the client address and agent, for rate limits and (later) the audit log.
import { getEnv } from "../env";

export type RequestContext = { ip: string; userAgent: string | null };

/** Header set by our own web server from the socket address; any value a client sends is overwritten there. */
export const CLIENT_IP_HEADER = "x-kiln-client-ip";

/**
 * The path and query the browser asked for, set by our web server (any client value is
 * overwritten). A layout cannot know which page below it was requested, so without this the
 * admin layout's sign-in redirect sent every /admin/… deep link back to /admin.
 */
export const REQUEST_PATH_HEADER = "x-kiln-request-path";

/** The page a request was for, as a path on Kiln, without Next's internal RSC marker; null when unknown. */
export function requestedPathOf(headers: Headers): string | null {
  const raw = headers.get(REQUEST_PATH_HEADER);
  if (!raw || !raw.startsWith("/") || raw.startsWith("//")) return null;
  const url = new URL(raw, "http://kiln.invalid");
  url.searchParams.delete("_rsc");
  return `${url.pathname}${url.search}`;
}

export function getRequestContext(headers: Headers): RequestContext {
  let ip = headers.get(CLIENT_IP_HEADER) ?? "";
  if (getEnv().KILN_TRUST_PROXY) {
    const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) ip = forwarded;
  }
  return { ip: ip || "unknown", userAgent: headers.get("user-agent") };
}

/**
 * Next drops Content-Length from route handler responses (it cannot know whether it decoded
 * the body). A handler that streams a body of known length (image blobs: downloaders need the
 * length for progress and resumes) also states it in this header; our web server turns it
 * back into Content-Length.
 */
export const CONTENT_LENGTH_HEADER = "x-kiln-content-length";
