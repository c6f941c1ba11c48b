// The web process: Next.js behind a small Node HTTP server. The server exists to stamp
// each request with the socket's address (x-kiln-client-ip), which rate limits and the
// boot routes rely on; a client-sent X-Forwarded-For is only trusted with KILN_TRUST_PROXY.
// It also sends the bytes of image blobs the blob route hands over (lib/images/send-file.ts),
// and is the one gate every request passes before Next.js runs (lib/http/request-gate.ts):
// cross-origin state changes, undecodable addresses and oversized bodies are refused here,
// for route handlers, pages and Auth.js alike, and every response gets the security headers.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { getEnv } from "@/lib/env";
import { CLIENT_IP_HEADER, CONTENT_LENGTH_HEADER } from "@/lib/http/context";
import { readLimited } from "@/lib/http/body";
import { bodyLimitFor, checkOrigin, checkUrl, hasBody, newNonce, originsOf, refusalBody, securityHeaders, tooLargeRefusal, type Refusal } from "@/lib/http/request-gate";
import { acceptSendFile, enableSendFile } from "@/lib/images/send-file";
import { getLogger } from "@/lib/log";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dev = process.argv.includes("--dev");
const env = getEnv();
const log = getLogger("web");

const app = next({ dev, dir: root, hostname: env.KILN_HOST, port: env.PORT });
const handle = app.getRequestHandler();
await app.prepare();

// Blob answers may now name a file for this server to send (lib/images/send-file.ts).
enableSendFile();

const trustedOrigins = originsOf([env.baseUrl]);

/**
 * Answers a refusal in the one error body. A body still arriving is not read: the connection
 * closes once the answer is out, so a 256 MB upload to nowhere costs nothing past the limit.
 */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, r: Refusal): void {
  const body = refusalBody(r);
  const closing = hasBody(req.headers) && !req.complete;
  res.writeHead(r.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store", ...(closing ? { connection: "close" } : {}) });
  res.end(body, () => {
    if (closing) req.socket.destroy();
  });
}

/**
 * The request again, its body already read (and counted) by us, for Next.js to read as if
 * from the socket. Node's parser fills an IncomingMessage through push(); so does this copy.
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

const server = http.createServer((req, res) => {
  req.headers[CLIENT_IP_HEADER] = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  // Next.js finds the nonce for its inline scripts in the request's own CSP header; any
  // value a client sent is replaced.
  const nonce = newNonce();
  const security = securityHeaders(nonce, dev);
  req.headers["content-security-policy"] = security["content-security-policy"];
  delete req.headers["content-security-policy-report-only"];
  for (const [name, value] of Object.entries(security)) res.setHeader(name, value);
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => {
    if (name.toLowerCase() !== CONTENT_LENGTH_HEADER) return setHeader(name, value);
    const length = String(Array.isArray(value) ? value[0] : value);
    return /^\d+$/.test(length) ? setHeader("content-length", length) : res;
  };
  acceptSendFile(res);
  const gate = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers };
  const refusal = checkUrl(gate.url) ?? checkOrigin(gate, trustedOrigins);
  if (refusal) return refuse(req, res, refusal);
  const limit = bodyLimitFor(gate.url);
  if (limit === null || !hasBody(req.headers)) return void handle(req, res);
  if (Number(req.headers["content-length"] ?? 0) > limit) return refuse(req, res, tooLargeRefusal(limit));
  // Counted as it streams: a chunked body has no length to check first.
  readLimited(req, limit, { cancel: false }).then(
    (body) => (body ? void handle(replay(req, body), res) : refuse(req, res, tooLargeRefusal(limit))),
    () => res.destroy(),
  );
});
server.keepAliveTimeout = 65_000;
server.on("error", (err: NodeJS.ErrnoException) => {
  log.fatal({ err: err.message }, err.code === "EADDRINUSE" ? `port ${env.PORT} is already in use; set PORT to another port` : "web server error");
  process.exit(1);
});
server.listen(env.PORT, env.KILN_HOST, () => {
  log.info({ port: env.PORT, dev }, "web server listening");
  process.send?.({ type: "listening" });
});

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "web server stopping");
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5_000).unref();
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
// Started by the launcher with an IPC channel: if the launcher dies, so do we.
process.on("disconnect", () => stop("launcher gone"));
