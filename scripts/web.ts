// The web process: Next.js behind a small Node HTTP server. The server exists to stamp
// each request with the socket's address (x-kiln-client-ip), which rate limits and the
// boot routes rely on; a client-sent X-Forwarded-For is only trusted with KILN_TRUST_PROXY.
// It also sends the bytes of image blobs the blob route hands over (lib/images/send-file.ts),
// and is the one gate every request passes before Next.js runs (lib/http/node-gate.ts):
// cross-origin state changes, undecodable addresses and oversized bodies are refused here,
// for route handlers, pages and Auth.js alike, and every response gets the security headers.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { getEnv } from "@/lib/env";
import { CLIENT_IP_HEADER, CONTENT_LENGTH_HEADER, REQUEST_PATH_HEADER } from "@/lib/http/context";
import { gateRequest } from "@/lib/http/node-gate";
import { newNonce, originsOf, securityHeaders } from "@/lib/http/request-gate";
import { acceptSendFile, enableSendFile } from "@/lib/images/send-file";
import { handleUploadNode, isUploadPath } from "@/lib/uploads/tus-server";
import { getLogger } from "@/lib/log";
import { clientIpOf, forwardRequest, forwardUpgrade, isMachinePath, localOrigin } from "@/lib/boot-server/proxy";
import { isConsolePath } from "@/lib/console/paths";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dev = process.argv.includes("--dev");
const env = getEnv();
const log = getLogger("web");

const app = next({ dev, dir: root, hostname: env.KILN_HOST, port: env.PORT });
const handle = app.getRequestHandler();
await app.prepare();

// Blob answers may now name a file for this server to send (lib/images/send-file.ts).
enableSendFile();

const gateOptions = { trustedOrigins: originsOf([env.baseUrl]), dev };
// Machines that were pointed at the portal's port (older DHCP snippets) reach the boot server
// through one plain hop here, never through Next.js.
const bootServer = new URL(localOrigin(env.KILN_HOST, env.bootPort));

const server = http.createServer((req, res) => {
  if (isMachinePath(req.url ?? "/")) {
    // Every answer on the portal's port carries the same security headers, forwarded ones too.
    for (const [name, value] of Object.entries(securityHeaders(newNonce(), dev))) res.setHeader(name, value);
    return forwardRequest(req, res, { target: bootServer, clientIp: clientIpOf(req), unreachable: "Kiln's boot server is not running; machines cannot be answered right now." });
  }
  req.headers[CLIENT_IP_HEADER] = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  req.headers[REQUEST_PATH_HEADER] = req.url ?? "/";
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => {
    if (name.toLowerCase() !== CONTENT_LENGTH_HEADER) return setHeader(name, value);
    const length = String(Array.isArray(value) ? value[0] : value);
    return /^\d+$/.test(length) ? setHeader("content-length", length) : res;
  };
  acceptSendFile(res);
  // tus uploads are served here, not by Next.js: each PATCH body would otherwise be copied
  // through web streams by Next and again by tus (lib/images/uploads.ts, same rules either way).
  gateRequest(req, res, gateOptions, (r, s) => void (isUploadPath(r.url ?? "/") ? handleUploadNode(r, s) : handle(r, s)));
});
server.keepAliveTimeout = 65_000;
// The serial console's WebSocket is the boot server's (it holds the machines' consoles): the
// upgrade goes there same-origin, its ticket is checked there. Any other upgrade is left to the
// listener Next.js adds to this server itself at its first request (dev reload); Next leaves
// paths it has no route for, such as /console/, alone.
server.on("upgrade", (req, socket, head) => {
  if (isConsolePath(req.url ?? "/")) forwardUpgrade(req, socket, head, { target: bootServer, clientIp: clientIpOf(req) });
});
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
