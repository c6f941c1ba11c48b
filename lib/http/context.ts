// Who is calling: the client address and agent, for rate limits and (later) the audit log.
import { getEnv } from "../env";

export type RequestContext = { ip: string; userAgent: string | null };

/** Header set by our own web server from the socket address; any value a client sends is overwritten there. */
export const CLIENT_IP_HEADER = "x-kiln-client-ip";

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
