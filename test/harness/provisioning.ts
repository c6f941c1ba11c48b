// One file: the world a provisioning test sets up (routes, fake machine, power plugin, ready image),
// which the tests use together through startProvisioningSetup.
// What the provisioning tests need around Kiln: an HTTP server with the routes a machine
// talks to (/boot/…, image blobs), a fake machine that network-boots and plays the deploy
// agent over real HTTP, a recording power plugin, and a ready image version in storage.
// First: route-handler exposes the AsyncLocalStorage Next's modules look for when loaded.
import "./route-handler";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as uploads from "@/app/api/uploads/[[...path]]/route";
import * as ramdiskRoute from "@/app/boot/ramdisk/[file]/route";
import { answerBootRequest } from "@/lib/boot/boot-service";
import { ensureRamdisk } from "@/lib/boot/ramdisk";
import { createBootHandler } from "@/lib/boot-server/server";
import { getAppDb, type Db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { getImageRow, insertImage, insertImageVersion, listStuckVerifications, nextImageVersion, refreshLatestVersion } from "@/db/queries/images";
import { getImageStorage } from "@/lib/images/storage";
import { verifyImageVersion } from "@/lib/images/verify";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { actorOf, type Actor } from "@/lib/access/actor";
import { createHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { setTestEnvDefaults } from "./env";
import { createActiveUser } from "./fixtures";
import { startRouteServer, type RouteServer } from "./http-server";
import { GUEST_KILN_URL, type Vm } from "./qemu";

type Handler = (req: Request, ctx: never) => Promise<Response>;

function route(handler: Handler | undefined, params: Record<string, string>, req: Request): Promise<Response> {
  if (!handler) return Promise.resolve(new Response("method not allowed", { status: 405 }));
  return handler(req, { params: Promise.resolve(params) } as never);
}

/** The machine-facing routes of Kiln on a real port: Kiln's boot server, with tus uploads as the portal answers them. */
export function startBootServer(): Promise<RouteServer> {
  return startRouteServer(bootRoutes);
}

// The real boot server (lib/boot-server/server.ts) on its own loopback port in this process,
// started at the first request, once the test has set KILN_BOOT_URL.
let machinePlane: Promise<string> | null = null;

function machinePlaneUrl(): Promise<string> {
  machinePlane ??= new Promise((resolve, reject) => {
    const env = getEnv();
    const db = getAppDb();
    const handler = createBootHandler({
      db,
      answers: { answer: (r) => answerBootRequest(db, r) },
      bootUrl: env.bootUrl,
      ramdiskDir: env.ramdiskDir,
      mediaDir: env.mediaDir,
      portalUrl: env.portalUrl,
    });
    const server = http.createServer({ keepAliveTimeout: 1000 }, handler);
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.unref();
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
  return machinePlane;
}

/**
 * The dispatcher behind startBootServer, for tests that wrap it (cut a response short…):
 * machine paths go over HTTP to the boot server; /api/uploads to the portal's tus route.
 */
export async function bootRoutes(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const parts = url.pathname.split("/").filter(Boolean);
  const m = req.method as "GET" | "POST" | "HEAD" | "PATCH" | "DELETE";
  if (parts[0] === "api" && parts[1] === "uploads") return route((uploads as unknown as Record<string, Handler>)[m], { path: parts.slice(2) as never }, req);
  const target = `${await machinePlaneUrl()}${url.pathname}${url.search}`;
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  // The original caller's address travels as the portal's hop sends it (lib/boot-server/proxy.ts).
  const headers = new Headers(req.headers);
  for (const h of ["connection", "keep-alive", "transfer-encoding", "upgrade", "host"]) headers.delete(h);
  const res = await fetch(target, { method: req.method, headers, body: hasBody ? req.body : undefined, redirect: "manual", ...(hasBody ? { duplex: "half" } : {}) } as RequestInit);
  // fetch decodes nothing here (no content-encoding); hand the answer back as the route server expects.
  const bodyless = req.method === "HEAD" || [204, 304].includes(res.status);
  return new Response(bodyless ? null : res.body, { status: res.status, headers: res.headers });
}

/**
 * bootRoutes plus the portal's /boot/ramdisk/<file> route: what a real QEMU machine that boots
 * Kiln's deploy ramdisk asks for (the QEMU tests' server handler).
 */
export async function bootAndRamdiskRoutes(req: Request): Promise<Response> {
  const parts = new URL(req.url).pathname.split("/").filter(Boolean);
  if (parts[0] === "boot" && parts[1] === "ramdisk" && parts.length === 3) {
    const handler = (ramdiskRoute as unknown as Record<string, (r: Request, c: unknown) => Promise<Response>>)[req.method];
    return handler ? handler(req, { params: Promise.resolve({ file: parts[2]! }) }) : new Response("method not allowed", { status: 405 });
  }
  return bootRoutes(req);
}

export type Reply = { status: number; text: string; json: () => any };

/**
 * A machine as Kiln sees it over HTTP: it network-boots (GET /boot/<mac>), finds its token in
 * the answer (kiln.token=… or the URLs of its install files), and then does what the deploy
 * agent or an installer does.
 */
export class FakeMachine {
  token: string | null = null;

  constructor(
    readonly server: { url: string },
    readonly mac: string,
  ) {}

  private get dashed(): string {
    return this.mac.replace(/:/g, "-");
  }

  async request(method: string, pathAndQuery: string, body?: unknown, contentType = "application/json"): Promise<Reply> {
    const init: RequestInit = { method };
    if (Buffer.isBuffer(body)) {
      init.body = new Uint8Array(body);
      init.headers = { "content-type": "application/octet-stream" };
    } else if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers = { "content-type": typeof body === "string" && contentType === "application/json" ? "text/plain" : contentType };
    }
    const res = await fetch(`${this.server.url}${pathAndQuery}`, init);
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  }

  /** PXE → iPXE → /boot/<mac>; remembers the run's token from the script. */
  async boot(): Promise<string> {
    const r = await this.request("GET", `/boot/${this.dashed}`);
    const token = /kiln\.token=([A-Za-z0-9_-]+)/.exec(r.text)?.[1] ?? new RegExp(`/boot/${this.dashed}/([A-Za-z0-9_-]{20,})/`).exec(r.text)?.[1];
    if (token) this.token = token;
    return r.text;
  }

  file(file: string, method = "GET", body?: unknown, contentType?: string): Promise<Reply> {
    if (!this.token) throw new Error("the machine has not booted a run yet");
    return this.request(method, `/boot/${this.dashed}/${this.token}/${file}`, body, contentType);
  }

  /** The agent fetches its instructions (the "agent started" milestone). */
  async instructions(): Promise<any> {
    const r = await this.file("agent.json");
    if (r.status !== 200) throw new Error(`agent.json answered ${r.status}: ${r.text}`);
    return r.json();
  }

  progress(body: Record<string, unknown>): Promise<Reply> {
    return this.file("progress", "POST", body);
  }

  log(lines: string[]): Promise<Reply> {
    return this.file("log", "POST", { lines });
  }

  inventory(body: Record<string, unknown>): Promise<Reply> {
    return this.file("inventory", "POST", body);
  }

  done(body: Record<string, unknown> = {}): Promise<Reply> {
    return this.file("done", "POST", body);
  }

  /** A tus request with the run's token, as the agent sends it (`url`: a path or the Location). */
  async tus(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
    if (!this.token) throw new Error("the machine has not booted a run yet");
    const u = new URL(url, this.server.url);
    return fetch(`${this.server.url}${u.pathname}`, {
      method,
      headers: { "Tus-Resumable": "1.0.0", Authorization: `Kiln-Run ${this.mac} ${this.token}`, ...headers },
      body: body ? new Uint8Array(body) : undefined,
    });
  }

  /**
   * capture_disk as the agent does it: one tus upload of deferred length, the disk's bytes
   * in chunks, the length declared with the last one. Answers the upload's URL and what the
   * agent then reports done with; throws on any refusal.
   */
  async capture(bytes: Buffer, chunkBytes = 192 * 1024): Promise<{ location: string; sha256: string; bytes: number }> {
    const created = await this.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
    if (created.status !== 201) throw new Error(`tus creation answered ${created.status}: ${await created.text()}`);
    const location = created.headers.get("location")!;
    for (let at = 0; at < bytes.length; at += chunkBytes) {
      const chunk = bytes.subarray(at, at + chunkBytes);
      const last = at + chunk.length >= bytes.length;
      const res = await this.tus("PATCH", location, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(at), ...(last ? { "Upload-Length": String(bytes.length) } : {}) }, chunk);
      if (res.status !== 204) throw new Error(`PATCH at ${at} answered ${res.status}: ${await res.text()}`);
    }
    return { location, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
  }

  failed(reason: string): Promise<Reply> {
    return this.file("failed", "POST", { reason });
  }

  /** Downloads the image the instructions name and answers its sha256, as the agent would. */
  async download(url: string): Promise<{ bytes: number; sha256: string; status: number }> {
    const u = new URL(url);
    const res = await fetch(`${this.server.url}${u.pathname}${u.search}`);
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, bytes: buf.length, sha256: createHash("sha256").update(buf).digest("hex") };
  }
}

/**
 * A power plugin that records every action it is asked for (one per line) and answers ok —
 * or fails, or sleeps first, as configured by files beside it, so a test can change its
 * behaviour while the worker runs.
 */
export async function recordingPowerPlugin(): Promise<{ command: string; dir: string; actions: () => Promise<string[]>; begun: () => Promise<string[]>; failWith: (reason: string | null) => Promise<void>; sleep: (seconds: number) => Promise<void>; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-power-"));
  const command = path.join(dir, "plugin.sh");
  const record = path.join(dir, "actions");
  await fs.writeFile(
    command,
    `#!/bin/sh
input=$(cat)
action=$(printf '%s' "$input" | sed -n 's/.*"action":"\\([a-z]*\\)".*/\\1/p')
printf '%s\\n' "$action" >> ${dir}/begun
[ -f ${dir}/sleep ] && sleep "$(cat ${dir}/sleep)"
printf '%s\\n' "$action" >> ${record}
if [ -f ${dir}/fail ]; then echo "$(cat ${dir}/fail)" >&2; exit 3; fi
echo "pdu: $action done" >&2
echo '{"ok": true, "state": "on", "message": "outlet switched"}'
`,
    { mode: 0o755 },
  );
  return {
    command,
    dir,
    actions: async () => (await fs.readFile(record, "utf8").catch(() => "")).split("\n").filter(Boolean),
    // Actions the plugin was started for, finished or not (a killed worker leaves one unfinished).
    begun: async () => (await fs.readFile(path.join(dir, "begun"), "utf8").catch(() => "")).split("\n").filter(Boolean),
    failWith: async (reason) => (reason === null ? fs.rm(path.join(dir, "fail"), { force: true }) : fs.writeFile(path.join(dir, "fail"), reason)),
    sleep: async (seconds) => fs.writeFile(path.join(dir, "sleep"), String(seconds)),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

/** A ready image version whose bytes are in storage (as if uploaded and verified). */
export async function seedReadyImage(db: Db, p: { ownerUserId: string; name?: string; bytes?: Buffer; visibility?: "private" | "public"; format?: "raw" | "gzip" | "zstd" | "xz" }) {
  const bytes = p.bytes ?? randomBytes(256 * 1024);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const created = await insertImage(db, { name: p.name ?? `img-${randomBytes(3).toString("hex")}`, ownerUserId: p.ownerUserId, visibility: p.visibility ?? "private" });
  const version = await nextImageVersion(db, created.id);
  const storage = getImageStorage();
  const tmp = path.join(storage.tmpDir, `seed-${randomBytes(6).toString("hex")}`);
  await fs.writeFile(tmp, bytes);
  const storageKey = await storage.putFile(tmp, created.id, version);
  await insertImageVersion(db, { imageId: created.id, version, state: "ready", sizeBytes: bytes.length, sha256, format: p.format ?? "raw", sourceFormat: p.format ?? "raw", storageKey, readyAt: new Date() });
  await refreshLatestVersion(db, created.id);
  // Read back: the row as it is now, with latest_version and version_counter at this version.
  const image = (await getImageRow(db, created.id))!;
  return { image, version, sha256, bytes };
}

/**
 * Stands in for the worker's verify-image-version job where no worker runs: verifies every
 * version whose upload completed, until stopped.
 */
export function startVerifier(db: Db): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const v of await listStuckVerifications(db, new Date(Date.now() + 60_000))) await verifyImageVersion(db, v);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export type ProvisioningSetup = Awaited<ReturnType<typeof startProvisioningSetup>>;

/**
 * What the provisioning tests share: an administrator; a holder in a project (and an outsider
 * in none); the built-in templates; the machine-facing routes on a real port, which
 * KILN_BOOT_URL names; a recording power plugin; and hosts leased to the holder on demand.
 */
export async function startProvisioningSetup(db: Db, p: { name: string; macByte: number }) {
  const admin: Actor = actorOf((await createActiveUser(db, { admin: true })).user, null);
  const holder: Actor = actorOf((await createActiveUser(db)).user, null);
  const outsider: Actor = actorOf((await createActiveUser(db)).user, null);
  const projectId = (await createProject(db, admin, { name: p.name })).id;
  await addProjectMember(db, admin, projectId, { userId: holder.user!.id });
  await syncBuiltinTemplates(db);
  const server = await startBootServer();
  const plugin = await recordingPowerPlugin();
  setTestEnvDefaults({ KILN_BOOT_URL: server.url });
  let hosts = 0;
  return {
    admin,
    holder,
    outsider,
    projectId,
    server,
    plugin,
    /** A host powered by the recording plugin (or manual), leased to the holder unless told not; and the machine behind it. */
    async heldHost(opts: { driver?: "plugin" | "manual"; lease?: boolean } = {}) {
      const n = ++hosts;
      const mac = `52:54:00:${p.macByte.toString(16).padStart(2, "0")}:00:${n.toString(16).padStart(2, "0")}`;
      const h = await createHost(db, admin, {
        name: `${p.name}-${n}`,
        interfaces: [{ mac }],
        power: opts.driver === "manual" ? { driver: "manual", params: {} } : { driver: "plugin", params: { command: plugin.command } },
      });
      const lease = opts.lease === false ? null : await createLease(db, admin, { hostIds: [h.id], userId: holder.user!.id, projectId });
      return { hostId: h.id, name: h.name, mac, leaseId: lease?.id ?? null, machine: new FakeMachine(server, mac) };
    },
    async close() {
      await server.close();
      await plugin.cleanup();
    },
  };
}

/**
 * startProvisioningSetup for real QEMU machines (the QEMU tests' beforeAll): Kiln's deploy
 * ramdisk built into <tmp>/ramdisk (the test's KILN_RAMDISK_DIR), the routes such a machine
 * asks for, and KILN_BOOT_URL at the guestfwd address through which it reaches the test's port.
 */
export async function startQemuProvisioningSetup(db: Db, p: { name: string; macByte: number; tmp: string }): Promise<ProvisioningSetup> {
  await ensureRamdisk({ dir: path.join(p.tmp, "ramdisk"), log: () => {} });
  const setup = await startProvisioningSetup(db, p);
  setTestEnvDefaults({ KILN_BOOT_URL: GUEST_KILN_URL });
  setup.server.setHandler(bootAndRamdiskRoutes);
  return setup;
}

/** The QEMU tests' afterAll: their machines stopped, the setup closed, the job sender stopped, <tmp> removed. */
export async function stopQemuProvisioningSetup(p: { setup: ProvisioningSetup | undefined; vms: Vm[]; tmp: string }): Promise<void> {
  await Promise.all(p.vms.map((v) => v.stop()));
  await p.setup?.close();
  await stopJobSender();
  await fs.rm(p.tmp, { recursive: true, force: true });
}

/** Polls until `check` is true (or throws with what it saw last). */
export async function waitFor<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)?.slice(0, 500)})`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}
