// The blob route's hand-off to Kiln's web server, over real HTTP: a node:http server set up
// as scripts/web.ts sets up its own (enableSendFile, acceptSendFile on every response), the
// real blob route, and Next's own sendResponse copying the route's answer onto the Node
// response as `npm start` does. Then the same guarantees as the streamed body: byte-exact
// ranges, If-Range, HEAD, 416, 304, access — and no internal header or file handle leaks.
import "@/test/harness/route-handler";
import { createHash, randomBytes, randomInt } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { NodeNextResponse } from "next/dist/server/base-http/node";
import { sendResponse } from "next/dist/server/send-response";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as blobRoute from "@/app/images/[id]/versions/[version]/blob/route";
import { insertImageVersion, nextImageVersion, refreshLatestVersion } from "@/db/queries/images";
import type { UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { CLIENT_IP_HEADER } from "@/lib/http/context";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { inRequestScope } from "@/test/harness/route-handler";
import { createImage } from "./images";
import { acceptSendFile, enableSendFile, formatSendFile, SEND_FILE_HEADER } from "./send-file";
import { imagesRoot } from "./storage";

const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-send-file-test-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
type Person = { user: UserRow; token: string };
let owner: Person;
let outsider: Person;
let server: http.Server;
let base: string;
let image: { id: string };
let data: Buffer;
let v1: number;
/** When set, the next request is answered by this instead of the route (hand-offs made by hand). */
let override: ((res: http.ServerResponse) => void) | null = null;

async function person(): Promise<Person> {
  const { user } = await createActiveUser(t.db);
  return { user, token: (await createApiToken(t.db, user.id, { name: "send-file" })).token };
}

/** What Next does for an app route: call the handler in its request scope, then sendResponse. */
function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  acceptSendFile(res);
  if (override) {
    const answer = override;
    override = null;
    return answer(res);
  }
  req.headers[CLIENT_IP_HEADER] = "127.0.0.1";
  const url = new URL(req.url!, "http://kiln.test");
  const m = /^\/images\/([^/]+)\/versions\/([^/]+)\/blob$/.exec(url.pathname)!;
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const web = new Request(url, { method: req.method, headers });
  const handler = req.method === "HEAD" ? blobRoute.HEAD : blobRoute.GET;
  void inRequestScope(web, () => handler(web, { params: Promise.resolve({ id: m[1]!, version: m[2]! }) } as never)).then((answer) =>
    sendResponse({ method: req.method } as never, new NodeNextResponse(res), answer),
  );
}

type Got = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

function get(p: { version?: number | string; token?: string; method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const auth: Record<string, string> = p.token === undefined ? { authorization: `Bearer ${owner.token}` } : p.token ? { authorization: `Bearer ${p.token}` } : {};
    const req = http.request(`${base}/images/${image.id}/versions/${p.version ?? v1}/blob`, { method: p.method ?? "GET", headers: { ...auth, ...p.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const openFds = () => fs.readdirSync("/proc/self/fd").length;

beforeAll(async () => {
  enableSendFile();
  [owner, outsider] = await Promise.all([person(), person()]);
  image = await createImage(t.db, actorOf(owner.user, null), { name: "handed over" });
  data = randomBytes(9 * 1024 * 1024 + 321);
  v1 = await nextImageVersion(t.db, image.id);
  const key = `blobs/${image.id}/${v1}`;
  await fsp.mkdir(path.join(imagesRoot(), "blobs", image.id), { recursive: true });
  await fsp.writeFile(path.join(imagesRoot(), key), data);
  await insertImageVersion(t.db, { imageId: image.id, version: v1, state: "ready", sizeBytes: data.length, sha256: sha(data), format: "unknown", sourceFormat: "unknown", storageKey: key, uploadedByUserId: owner.user.id, readyAt: new Date() });
  await refreshLatestVersion(t.db, image.id);
  server = http.createServer(serve);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => {
    server?.close(() => r());
    server?.closeAllConnections();
  });
  await fsp.rm(dataDir, { recursive: true, force: true });
});

describe("blob hand-off to the web server", () => {
  it("sends the whole file with the route's headers and never shows the hand-off header", async () => {
    const got = await get();
    expect(got.status).toBe(200);
    expect(sha(got.body)).toBe(sha(data));
    expect(got.headers).toMatchObject({ etag: `"${sha(data)}"`, "accept-ranges": "bytes", "x-kiln-content-length": String(data.length), "cache-control": "private, max-age=31536000, immutable" });
    expect(got.headers[SEND_FILE_HEADER]).toBeUndefined();
    const head = await get({ method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers["x-kiln-content-length"]).toBe(String(data.length));
  });

  it("answers ranges byte-exact at random offsets, and a resumed download adds up to the file", async () => {
    for (let i = 0; i < 30; i++) {
      const a = randomInt(1, data.length);
      const b = i % 2 ? randomInt(a, data.length) : data.length - 1;
      const got = await get({ headers: { range: `bytes=${a}-${i % 2 ? b : ""}` } });
      expect({ a, b, status: got.status }).toEqual({ a, b, status: 206 });
      expect(got.headers["content-range"]).toBe(`bytes ${a}-${b}/${data.length}`);
      expect(got.body.equals(data.subarray(a, b + 1)), `bytes=${a}-${b}`).toBe(true);
    }
    const parts: Buffer[] = [];
    for (let offset = 0; offset < data.length; ) {
      const got = await get({ headers: { range: `bytes=${offset}-`, "if-range": `"${sha(data)}"` } });
      const keep = got.body.subarray(0, randomInt(1, 3 * 1024 * 1024));
      parts.push(keep);
      offset += keep.length;
    }
    expect(sha(Buffer.concat(parts))).toBe(sha(data));
    const stale = await get({ headers: { range: "bytes=5-9", "if-range": '"other"' } });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(data)).toBe(true);
  });

  it("keeps the route's refusals and short answers: 416, 304, 404 for an outsider, 401 without credentials", async () => {
    const past = await get({ headers: { range: `bytes=${data.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers["content-range"]).toBe(`bytes */${data.length}`);
    expect((await get({ headers: { "if-none-match": `"${sha(data)}"` } })).status).toBe(304);
    expect((await get({ token: outsider.token })).status).toBe(404);
    expect((await get({ token: "" })).status).toBe(401);
  });

  it("closes the file when a client goes away mid-download, and serves the next one", async () => {
    const before = openFds();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const req = http.get(`${base}/images/${image.id}/versions/${v1}/blob`, { headers: { authorization: `Bearer ${owner.token}` } }, (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        });
        req.on("error", () => resolve());
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(openFds()).toBeLessThanOrEqual(before + 1);
    expect(sha((await get()).body)).toBe(sha(data));
  });

  it("answers 503 when the file is gone by the time it is sent, and 500 for a malformed hand-off", async () => {
    override = (res) => {
      res.statusCode = 200;
      res.setHeader("content-length", "10");
      res.setHeader(SEND_FILE_HEADER, formatSendFile({ file: path.join(dataDir, "gone"), start: 0, end: 9 }));
      res.end();
    };
    const gone = await get();
    expect(gone.status).toBe(503);
    expect(gone.body.toString()).toContain("not available");
    override = (res) => {
      res.setHeader(SEND_FILE_HEADER, "nonsense");
      res.end();
    };
    expect((await get()).status).toBe(500);
  });
});
