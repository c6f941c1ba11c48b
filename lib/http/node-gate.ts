// The request gate (lib/http/request-gate.ts) applied to a Node request before it is handed
// on: security headers and the nonce, the address and origin checks, and the body read here,
// counted as it streams, checked, and replayed to the next handler (Next.js in scripts/web.ts).
import http from "node:http";
import { readNodeLimited } from "./body";
import { bodyLimitFor, checkBody, checkOrigin, checkUrl, hasBody, newNonce, refusalBody, securityHeaders, tooLargeRefusal, type Refusal } from "./request-gate";

export type GateOptions = { trustedOrigins: Set<string>; dev?: boolean };
export type NextHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function gateRequest(req: http.IncomingMessage, res: http.ServerResponse, options: GateOptions, next: NextHandler): void {
  // Next.js finds the nonce for its inline scripts in the request's own CSP header; any value
  // a client sent is replaced.
  const security = securityHeaders(newNonce(), options.dev);
  req.headers["content-security-policy"] = security["content-security-policy"];
  delete req.headers["content-security-policy-report-only"];
  for (const [name, value] of Object.entries(security)) res.setHeader(name, value);

  const gate = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers };
  const refusal = checkUrl(gate.url) ?? checkOrigin(gate, options.trustedOrigins);
  if (refusal) return refuse(req, res, refusal);
  const limit = bodyLimitFor(gate.url);
  if (limit === null || !hasBody(req.headers)) return next(req, res);
  if (Number(req.headers["content-length"] ?? 0) > limit) return refuse(req, res, tooLargeRefusal(limit));
  // Counted as it streams: a chunked body has no length to check first.
  readNodeLimited(req, limit).then(
    (body) => {
      if (!body) return refuse(req, res, tooLargeRefusal(limit));
      const bad = checkBody(req.headers["content-type"], body);
      if (bad) return refuse(req, res, bad);
      next(replay(req, body), res);
    },
    () => res.destroy(),
  );
}

/**
 * Answers a refusal in the one error body. A body still arriving is read and dropped, never
 * kept, until the connection closes after the answer (Node closes it for `connection: close`):
 * resetting it at once would make the client's kernel discard the 413 before it is read. A
 * client that keeps sending anyway is cut off after a few seconds.
 */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, r: Refusal): void {
  const body = refusalBody(r);
  const closing = hasBody(req.headers) && !req.complete;
  res.writeHead(r.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store", ...(closing ? { connection: "close" } : {}) });
  res.end(body);
  if (closing) {
    req.resume();
    setTimeout(() => req.socket.destroy(), 5_000).unref();
  }
}

/**
 * The request again, its body already read (and counted) here, for the next handler to read
 * as if from the socket. Node's parser fills an IncomingMessage through push(); so does this.
 */
function replay(req: http.IncomingMessage, body: Buffer): http.IncomingMessage {
  const copy = new http.IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  const headers = { ...req.headers, "content-length": String(body.length) };
  delete headers["transfer-encoding"];
  copy.headers = headers;
  copy.rawHeaders = Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((x) => [k, x]) : v === undefined ? [] : [k, v]));
  copy.push(body);
  copy.push(null);
  copy.complete = true;
  return copy;
}
