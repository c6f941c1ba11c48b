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

/** How much of a refused body is read and dropped, at most, before the connection is cut. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

/**
 * Answers a refusal in the one error body. When a body is still arriving, the connection is
 * not reused (`connection: close`) but closed gently: Node would destroy the socket as soon
 * as the answer is written, which resets it while the client is still sending, and the
 * client's kernel then throws the 413 away before the client reads it. Instead the answer is
 * followed by a FIN, and what still arrives is read and dropped, never kept, until the client
 * stops, 64 MiB more have come, or 10 s have passed.
 */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, r: Refusal): void {
  const body = refusalBody(r);
  const pending = hasBody(req.headers) && !req.complete;
  res.writeHead(r.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store", ...(pending ? { connection: "close" } : {}) });
  if (pending) {
    const socket = req.socket;
    const cut = () => socket.destroy();
    socket.destroySoon = () => void socket.end();
    const timer = setTimeout(cut, DRAIN_MAX_MS).unref();
    let dropped = 0;
    req.on("data", (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > DRAIN_MAX_BYTES) cut();
    });
    req.once("end", () => {
      clearTimeout(timer);
      cut();
    });
    req.resume();
  }
  res.end(body);
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
