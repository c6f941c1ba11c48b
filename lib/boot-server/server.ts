// The boot server: every path a machine touches, in plain node:http with no Next.js on the
// way (issue 13). iPXE's chain script, the per-MAC answer (from memory: ./answers.ts), the
// run's files and reports, the deploy ramdisk, UEFI local boot's GRUB program (/boot/efi/), and
// image blobs for a run's token. Capture uploads (tus) are forwarded to the portal, which owns
// uploads. Anything else is a 404 that says where people go. The same handler runs alone
// (`npm run boot-server`, one per site) and beside the portal under `npm start`, whose web port
// forwards these paths here.
import http from "node:http";
import { Readable } from "node:stream";
import { chainScript } from "@/boot/scripts";
import type { BootAnswer } from "../boot/boot-service";
import { serveEfiFile } from "../boot/efi-local-boot";
import { serveMediaFile } from "../boot/media";
import { serveRamdiskFile } from "../boot/ramdisk";
import type { Db } from "../db";
import { answerAgentRequest } from "../boot/agent-http";
import { isAppError, toErrorBody } from "../errors";
import { readNodeLimited, tooLargeError } from "../http/body";
import { serveBlobNode } from "../images/blob-node";
import { getLogger } from "../log";
import { UPLOAD_PATH } from "../validation/images";
import { clientIpOf, forwardRequest } from "./proxy";
import { RequestStats } from "./stats";

export type BootRequest = { mac: string; hostnameHint: string | null; sourceIp: string | null; arch?: string | null };

/** What answers GET /boot/<mac>: the in-memory answers (./answers.ts), or the uncached service in tests. */
export type BootAnswerSource = { answer(req: BootRequest): BootAnswer | Promise<BootAnswer> };

export type BootServerOptions = {
  db: Db;
  answers: BootAnswerSource;
  /** Base URL machines use to reach this server (the chain script points back at it); a function when it is learnt later (the site's). */
  bootUrl: string | (() => string);
  ramdiskDir: string;
  /** Install media served under /boot/media/<set>/<file> (lib/boot/media.ts); 503 for every file when absent. */
  mediaDir?: string;
  /** Where capture uploads go: the portal (KILN_URL, or its local port under npm start). */
  portalUrl: string;
  stats?: RequestStats;
  /** WebSocket upgrades (the serial console, lib/console/upgrade.ts); refused when absent. */
  onUpgrade?: (req: http.IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => void;
};

const TEXT = "text/plain; charset=utf-8";
const IPXE_HEADERS = { "content-type": TEXT, "cache-control": "no-store" };

function send(res: http.ServerResponse, status: number, body: string, contentType = TEXT): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: http.ServerResponse, e: unknown, where: string): void {
  if (!isAppError(e)) getLogger("boot-server").error({ err: e, where }, "unhandled error answering a machine");
  if (res.headersSent) return void res.destroy();
  const { status, body } = toErrorBody(e);
  send(res, status, JSON.stringify(body), "application/json");
}

/** A web Response (the files answerFile serves) onto the node response, streaming its body. */
async function sendWeb(res: http.ServerResponse, web: Response): Promise<void> {
  const headers: Record<string, string> = {};
  web.headers.forEach((v, k) => (headers[k === "x-kiln-content-length" ? "content-length" : k] = v));
  res.writeHead(web.status, headers);
  if (!web.body) return void res.end();
  const body = Readable.fromWeb(web.body as never, { highWaterMark: 4 * 1024 * 1024 });
  body.once("error", () => res.destroy());
  res.once("close", () => body.destroy());
  body.pipe(res);
}

/** A path segment decoded; a malformed escape stays as sent, and then names nothing served (404). */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * GET or HEAD of a file machines fetch (the ramdisk, UEFI local boot's GRUB, install media):
 * `serve` answers with a web Response (lib/boot/serve-file.ts and its kin), streamed onto `res`.
 */
function answerFile(req: http.IncomingMessage, res: http.ServerResponse, what: string, where: string, serve: (headers: Headers) => Promise<Response>): void {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") return send(res, 405, `${what} is fetched with GET.\n`);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  serve(headers).then(
    (web) => sendWeb(res, web),
    (e) => sendError(res, e, where),
  );
}

function readNodeText(req: http.IncomingMessage, limit: number): Promise<string> {
  return readNodeLimited(req, limit).then((buf) => {
    if (buf === null) throw tooLargeError(limit);
    return buf.toString("utf8");
  });
}

/** The request handler; split from the listening server so tests can mount it on their own port. */
export function createBootHandler(o: BootServerOptions): http.RequestListener {
  let chain = { url: "", text: "" };
  const chainText = (): string => {
    const url = typeof o.bootUrl === "function" ? o.bootUrl() : o.bootUrl;
    if (chain.url !== url) chain = { url, text: chainScript(url) };
    return chain.text;
  };
  const portal = new URL(o.portalUrl);
  const stats = o.stats ?? new RequestStats();

  const answerMac = (req: http.IncomingMessage, res: http.ServerResponse, rawMac: string, query: string): void => {
    const mac = decodePart(rawMac);
    const params = query ? new URLSearchParams(query) : null;
    const hint = params?.get("hostname") ?? null;
    const done = (a: BootAnswer) => {
      res.writeHead(a.status, { "content-type": a.contentType, "cache-control": "no-store", "content-length": Buffer.byteLength(a.body) });
      res.end(a.body);
    };
    const a = o.answers.answer({ mac, hostnameHint: hint, sourceIp: clientIpOf(req), arch: params?.get("arch") ?? null });
    if ("then" in a) a.then(done, (e) => sendError(res, e, "boot answer"));
    else done(a);
  };

  return (req, res) => {
    const started = stats.begin();
    res.once("finish", () => stats.end(started, res.statusCode));
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const pathname = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? "" : url.slice(q + 1);
    const method = req.method ?? "GET";
    const parts = pathname.split("/");
    // parts[0] is "" (the path starts with "/").
    try {
      if (parts[1] === "boot") {
        if (parts.length === 3) {
          if (method !== "GET" && method !== "HEAD") return send(res, 405, "Machines GET their boot script here.\n");
          if (parts[2] === "chain.ipxe") return void (res.writeHead(200, IPXE_HEADERS), res.end(chainText()));
          return answerMac(req, res, parts[2]!, query);
        }
        if (parts.length === 4 && parts[2] === "ramdisk") {
          return answerFile(req, res, "The ramdisk", "ramdisk", (headers) => serveRamdiskFile({ dir: o.ramdiskDir, file: decodePart(parts[3]!), method, headers }));
        }
        if (parts.length === 4 && parts[2] === "efi") {
          return answerFile(req, res, "The EFI local-boot program", "efi", (headers) => serveEfiFile({ file: decodePart(parts[3]!), method, headers }));
        }
        // Before the run's files (/boot/<mac>/<token>/<file>, as many parts): "media" is no MAC.
        if (parts.length === 5 && parts[2] === "media") {
          return answerFile(req, res, "Install media", "media", (headers) =>
            serveMediaFile({ dir: o.mediaDir ?? "/nonexistent", set: decodePart(parts[3]!), file: decodePart(parts[4]!), method, headers }),
          );
        }
        if (parts.length === 5) {
          answerAgentRequest(o.db, { method, mac: parts[2]!, token: parts[3]!, file: parts[4]!, contentType: req.headers["content-type"] ?? null, readText: (limit) => readNodeText(req, limit) }).then(
            (a) => {
              send(res, a.status, a.body, a.contentType);
              // A report cut at the limit left the rest unread: drain it so the answer is read.
              if (!req.complete) req.resume();
            },
            (e) => sendError(res, e, "agent"),
          );
          return;
        }
      }
      // /images/<id>/versions/<version>/blob?token=… — the image a run writes, for its token.
      if (parts[1] === "images" && parts[3] === "versions" && parts[5] === "blob" && parts.length === 6) {
        if (method !== "GET" && method !== "HEAD") return send(res, 405, "Image bytes are fetched with GET.\n");
        const token = query ? new URLSearchParams(query).get("token") : null;
        if (!token) return send(res, 401, "This is the machines' boot server: a machine fetches an image with its run's token. People download images from the portal.\n");
        serveBlobNode(o.db, req, res, { imageId: parts[2]!, ref: parts[4]!, token }).catch((e) => sendError(res, e, "blob"));
        return;
      }
      // A capture run's disk goes up with tus; the portal owns uploads (quotas, verification).
      if (pathname === UPLOAD_PATH || pathname.startsWith(`${UPLOAD_PATH}/`)) {
        return forwardRequest(req, res, { target: portal, clientIp: clientIpOf(req), unreachable: "Kiln's portal, which receives uploads, cannot be reached from this boot server right now; try again." });
      }
      send(res, 404, "Not found. This is Kiln's boot server for machines (/boot/…); people use the portal.\n");
    } catch (e) {
      sendError(res, e, "router");
    }
  };
}

/** A listening boot server. Resolves once it listens; `close` stops it. */
export function listenBootServer(o: BootServerOptions & { host: string; port: number }): Promise<http.Server> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, createBootHandler(o));
  if (o.onUpgrade) server.on("upgrade", o.onUpgrade);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
