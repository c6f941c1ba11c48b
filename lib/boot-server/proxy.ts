// One HTTP hop between Kiln's own processes, in plain node:http (no Next.js, no fetch, no web
// streams): the portal's port forwards machine paths to the boot server, and the boot server
// forwards capture uploads to the portal. Bodies stream both ways with backpressure; the
// caller's address travels in x-kiln-client-ip, which the receiver trusts only from loopback.
import http from "node:http";
import net from "node:net";
import { getEnv } from "../env";
import { CLIENT_IP_HEADER } from "../http/context";

// Keep-alive to the neighbour process: a new TCP connection per machine request would cost
// more than the proxying itself.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the message.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

/** The http origin a process on this machine uses to reach a server bound to `host`:`port`. */
export function localOrigin(host: string, port: number): string {
  const h = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export function isLoopback(address: string | undefined): boolean {
  const a = (address ?? "").replace(/^::ffff:/, "");
  return a === "::1" || a.startsWith("127.");
}

/**
 * The caller's address: X-Forwarded-For's first entry when KILN_TRUST_PROXY says a proxy sets
 * it, else what a Kiln process on this machine forwarded, else the socket's.
 */
export function clientIpOf(req: http.IncomingMessage, trustProxy = getEnv().KILN_TRUST_PROXY): string {
  const socketIp = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  const xff = req.headers["x-forwarded-for"];
  if (trustProxy && typeof xff === "string") {
    const first = xff.split(",")[0]!.trim();
    if (first) return first;
  }
  const forwarded = req.headers[CLIENT_IP_HEADER];
  return isLoopback(socketIp) && typeof forwarded === "string" && forwarded ? forwarded : socketIp;
}

/**
 * Streams `req` to `target` (an http://host:port origin) and the answer back. When the
 * neighbour cannot be reached the caller gets a 502 saying which service is down.
 */
export function forwardRequest(req: http.IncomingMessage, res: http.ServerResponse, p: { target: URL; clientIp: string; unreachable: string }): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
  headers[CLIENT_IP_HEADER] = p.clientIp;
  const out = http.request(
    { agent, host: p.target.hostname, port: p.target.port, method: req.method, path: req.url, headers },
    (answer) => {
      const back: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) back[k] = v;
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
      answer.once("error", () => res.destroy());
    },
  );
  out.once("error", () => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end(`${p.unreachable}\n`);
  });
  // The caller hung up: stop the hop too, so a cancelled upload does not keep writing.
  res.once("close", () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
}

/**
 * Paths that belong to the boot server: everything under /boot/, and an image's bytes fetched
 * with a run's token (people's downloads, with a session, stay on the portal).
 */
export function isMachinePath(url: string): boolean {
  if (url.startsWith("/boot/")) return true;
  return url.startsWith("/images/") && /^\/images\/[^/?]+\/versions\/[^/?]+\/blob\?(.*&)?token=/.test(url);
}

/**
 * A WebSocket upgrade (the serial console, lib/console/) passed on to `target` as bytes: the
 * request head is rewritten with the caller's address, then both sockets are piped. The hop
 * understands nothing of WebSocket; the boot server answers the upgrade (or refuses it).
 */
export function forwardUpgrade(req: http.IncomingMessage, socket: import("node:stream").Duplex, head: Buffer, p: { target: URL; clientIp: string }): void {
  const out = net.connect(Number(p.target.port), p.target.hostname.replace(/^\[|\]$/g, ""));
  const lines = [`${req.method ?? "GET"} ${req.url ?? "/"} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== CLIENT_IP_HEADER) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  }
  lines.push(`${CLIENT_IP_HEADER}: ${p.clientIp}`);
  let connected = false;
  socket.on("error", () => out.destroy());
  out.once("connect", () => {
    connected = true;
    out.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length) out.write(head);
    out.pipe(socket);
    socket.pipe(out);
  });
  out.once("error", () => {
    if (connected || !socket.writable) return void socket.destroy();
    const body = "Kiln's boot server, which holds the machines' consoles, is not running.\n";
    socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  out.once("close", () => socket.destroy());
  socket.once("close", () => out.destroy());
}
