// `npm run bench:images`: image bytes in and out at disk speed? A running Kiln (npm start on a
// throwaway data directory) takes a large random file over loopback through tus, timed
// against `cp` of the same file on the same filesystem; then its blob route serves the
// stored version, timed against nginx `sendfile` of the very same file (Debian's nginx-light),
// with the same client. Both ratios come from the same run. It also uploads a sample with
// several PATCH chunk sizes to measure what one tus request costs (the browser's chunk size
// is chosen from that). Not a test: numbers depend on the machine (see bench/README.md).
//
// Options: --size 2GiB (accepts KiB/MiB/GiB or bytes) --sample 256MiB --runs 3
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomFill } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { createDb } from "@/db/client";
import { getUserByEmail } from "@/db/queries/users";
import { createUserAsAdmin } from "@/lib/accounts/create-user";
import { createApiToken } from "@/lib/auth/api-tokens";
import { getProcessEnv } from "@/lib/env";
import { BLOB_READ_CHUNK } from "@/lib/images/send-file";
import { findFreePort, startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";
import { encodeMetadata } from "@/test/harness/tus";
import { waitForUrl } from "./kiln";

const root = path.resolve(import.meta.dirname, "..");
const MiB = 1024 * 1024;

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kib|mib|gib|kb|mb|gb)?$/i.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  const unit = (m[2] ?? "b").toLowerCase();
  const mult = { b: 1, kib: 1024, mib: MiB, gib: 1024 * MiB, kb: 1e3, mb: 1e6, gb: 1e9 }[unit]!;
  return Math.round(Number(m[1]) * mult);
}

function options() {
  const { values } = parseArgs({ options: { size: { type: "string", default: "2GiB" }, sample: { type: "string", default: "256MiB" }, runs: { type: "string", default: "3" } } });
  return { size: parseSize(values.size), sample: parseSize(values.sample), runs: Number(values.runs) };
}

const fmt = (bytes: number, seconds: number) => `${(bytes / MiB / seconds).toFixed(0).padStart(6)} MiB/s`;


async function writeRandomFile(file: string, size: number): Promise<void> {
  const fh = await fsp.open(file, "w");
  const buf = Buffer.alloc(8 * MiB);
  const fill = promisify(randomFill);
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(buf.length, size - done);
      await fill(buf);
      await fh.write(buf, 0, n);
      done += n;
    }
  } finally {
    await fh.close();
  }
}

function request(method: string, url: string, headers: Record<string, string>, body?: fs.ReadStream | Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let bytes = 0;
      const keep: Buffer[] = [];
      res.on("data", (c: Buffer) => {
        bytes += c.length;
        if (keep.length < 4) keep.push(c);
      });
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, bytes, text: Buffer.concat(keep).toString("utf8", 0, 2000) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body instanceof fs.ReadStream) body.pipe(req);
    else req.end(body);
  });
}

/** One tus upload of `file` in PATCHes of `chunk` bytes (0 = one PATCH); returns seconds and the version. */
async function tusUpload(base: string, token: string, imageId: string, file: string, size: number, chunk: number) {
  const auth = { authorization: `Bearer ${token}`, "tus-resumable": "1.0.0" };
  const t0 = process.hrtime.bigint();
  const created = await request("POST", `${base}/api/uploads`, { ...auth, "upload-length": String(size), "upload-metadata": encodeMetadata({ imageId, filename: path.basename(file) }) });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`);
  const url = `${base}${created.headers.location}`;
  const step = chunk > 0 ? chunk : size;
  let requests = 0;
  for (let offset = 0; offset < size; offset += step) {
    const end = Math.min(size, offset + step);
    const res = await request("PATCH", url, { ...auth, "upload-offset": String(offset), "content-type": "application/offset+octet-stream", "content-length": String(end - offset) }, fs.createReadStream(file, { start: offset, end: end - 1, highWaterMark: MiB }));
    if (res.status !== 204) throw new Error(`patch: ${res.status} ${res.text}`);
    requests++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, requests, version: Number(created.headers["kiln-image-version"]) };
}

async function download(url: string, token?: string): Promise<{ seconds: number; bytes: number }> {
  const t0 = process.hrtime.bigint();
  const res = await request("GET", url, token ? { authorization: `Bearer ${token}` } : {});
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.text}`);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes: res.bytes };
}

async function waitReady(base: string, token: string, imageId: string, version: number, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = (await (await fetch(`${base}/api/v1/images/${imageId}/versions/${version}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { state: string; failureReason: string | null; storageKey?: string };
    if (v.state === "ready") return;
    if (v.state === "failed") throw new Error(`version ${version} failed: ${v.failureReason}`);
    if (Date.now() > deadline) throw new Error(`version ${version} still ${v.state}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The floor of any HTTP upload or download here: a bare node:http server in a process of its
 * own (as Kiln's is) that pipes a PUT body into a file, or a file into a GET response with the
 * blob route's read size. What Kiln adds on top of it is Next's routing, the guard, tus and, for
 * uploads, the web-stream conversions.
 */
const BARE_SERVER = `
const fs = require("node:fs"), http = require("node:http"), path = require("node:path");
const [dir, blobFile, chunk] = process.argv.slice(1);
const server = http.createServer((req, res) => {
  if (req.method === "PUT") {
    const out = fs.createWriteStream(path.join(dir, "bare-upload.img"));
    req.pipe(out);
    out.on("finish", () => res.writeHead(204).end());
    return;
  }
  res.writeHead(200, { "content-length": String(fs.statSync(blobFile).size), "content-type": "application/octet-stream" });
  fs.createReadStream(blobFile, { highWaterMark: Number(chunk) }).pipe(res);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

async function startBareServer(dir: string, blobFile: string): Promise<{ url: string; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ["-e", BARE_SERVER, dir, blobFile, String(BLOB_READ_CHUNK)], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", (code) => reject(new Error(`the bare server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const opt = options();
  if (!existsSync("/usr/sbin/nginx")) {
    console.error("nginx is missing: run `bash scripts/ensure-deps.sh --bench` (installs nginx-light).");
    process.exit(1);
  }
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-bench-images-"));
  await fsp.chmod(tmp, 0o711);
  const dataDir = path.join(tmp, "data");
  const port = await findFreePort();
  const base = `http://127.0.0.1:${port}`;
  let kiln: ChildProcess | undefined;
  let nginx: ChildProcess | undefined;
  let bare: Awaited<ReturnType<typeof startBareServer>> | undefined;
  try {
    const source = path.join(tmp, "source.img");
    console.log(`writing ${(opt.size / MiB).toFixed(0)} MiB of random bytes to ${source}…`);
    await writeRandomFile(source, opt.size);
    const sample = path.join(tmp, "sample.img");
    await writeRandomFile(sample, Math.min(opt.sample, opt.size));
    const sampleSize = (await fsp.stat(sample)).size;

    console.log(`starting Kiln (npm start) on :${port} with an empty data directory…`);
    const env: NodeJS.ProcessEnv = { ...getProcessEnv(), KILN_DATA_DIR: dataDir, PORT: String(port), KILN_HOST: "127.0.0.1", LOG_LEVEL: "warn", NODE_ENV: "production", KILN_STORAGE_QUOTA_PER_USER_GB: "10000" };
    delete env.DATABASE_URL;
    delete env.KILN_ACCEL_REDIRECT_PREFIX;
    kiln = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"], detached: true });
    await waitForUrl(`${base}/api/health`, 300_000, kiln);

    const pg = await startEmbeddedPostgres(path.join(dataDir, "postgres"), { attachIfRunning: true });
    const { db, close } = createDb(pg.url, { max: 2 });
    const created = await createUserAsAdmin(db, { email: "bench@lab.example", password: "bench passphrase 1", name: "", admin: true });
    const user = (await getUserByEmail(db, created.email))!;
    const token = (await createApiToken(db, user.id, { name: "bench" })).token;
    await close();
    const image = (await (await fetch(`${base}/api/v1/images`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) })).json()) as { id: string };

    // Per-request cost of tus: the same sample in one PATCH and in ever smaller chunks.
    console.log(`\nPATCH chunk size, ${(sampleSize / MiB).toFixed(0)} MiB sample (each uploaded once; verification runs meanwhile):`);
    const chunks = [0, 64 * MiB, 16 * MiB, 4 * MiB, MiB].filter((c) => c < sampleSize);
    // Best of two each: the machine's other work only ever makes a run slower.
    const bestOf = async (chunk: number) => {
      const a = await tusUpload(base, token, image.id, sample, sampleSize, chunk);
      const b = await tusUpload(base, token, image.id, sample, sampleSize, chunk);
      return a.seconds <= b.seconds ? a : b;
    };
    const single = await bestOf(0);
    console.log(`  one PATCH             ${fmt(sampleSize, single.seconds)}   1 request`);
    for (const c of chunks.slice(1)) {
      const r = await bestOf(c);
      const perRequestMs = ((r.seconds - single.seconds) / (r.requests - 1)) * 1000;
      console.log(`  ${String(c / MiB).padStart(3)} MiB chunks        ${fmt(sampleSize, r.seconds)}   ${String(r.requests).padStart(4)} requests, ≈ ${perRequestMs.toFixed(1)} ms extra per request`);
    }

    // Upload: tus vs cp, the same file, the same filesystem.
    const cpRuns: number[] = [];
    for (let i = 0; i < opt.runs; i++) {
      const target = path.join(tmp, "cp-copy.img");
      const t0 = process.hrtime.bigint();
      const r = spawnSync("cp", [source, target]);
      if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
      cpRuns.push(Number(process.hrtime.bigint() - t0) / 1e9);
      await fsp.rm(target);
    }
    console.log(`\nuploading ${(opt.size / MiB).toFixed(0)} MiB through tus (one PATCH, loopback)…`);
    const up = await tusUpload(base, token, image.id, source, opt.size, 0);
    const tVerify = Date.now();
    await waitReady(base, token, image.id, up.version);
    const verifySeconds = (Date.now() - tVerify) / 1000;

    // Download: Kiln's blob route vs nginx sendfile of the stored file.
    const blobFile = path.join(dataDir, "images", "blobs", image.id, String(up.version));
    if (!existsSync(blobFile)) throw new Error(`stored blob not found at ${blobFile}`);
    const nginxPort = await findFreePort();
    const conf = path.join(tmp, "nginx.conf");
    await fsp.writeFile(
      conf,
      `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;\nerror_log ${tmp}/nginx-error.log;\npid ${tmp}/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  default_type application/octet-stream;\n  client_body_temp_path ${tmp}/nginx-tmp;\n  proxy_temp_path ${tmp}/nginx-tmp;\n  server {\n    listen 127.0.0.1:${nginxPort};\n    location = /blob { alias ${blobFile}; }\n  }\n}\n`,
    );
    nginx = spawn("/usr/sbin/nginx", ["-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "inherit"] });
    await waitForUrl(`http://127.0.0.1:${nginxPort}/blob`, 10_000, nginx);
    const blobUrl = `${base}/images/${image.id}/versions/${up.version}/blob`;
    bare = await startBareServer(tmp, blobFile);
    const bareUp: number[] = [];
    for (let i = 0; i < opt.runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = await request("PUT", `${bare.url}/upload`, { "content-length": String(opt.size) }, fs.createReadStream(source, { highWaterMark: MiB }));
      if (r.status !== 204) throw new Error(`bare PUT: ${r.status}`);
      bareUp.push(Number(process.hrtime.bigint() - t0) / 1e9);
      await fsp.rm(path.join(tmp, "bare-upload.img"));
    }
    // Warm the page cache for both, then alternate.
    await download(blobUrl, token);
    const kilnRuns: number[] = [];
    const nginxRuns: number[] = [];
    const bareDown: number[] = [];
    for (let i = 0; i < opt.runs; i++) {
      bareDown.push((await download(`${bare.url}/blob`)).seconds);
      const k = await download(blobUrl, token);
      if (k.bytes !== opt.size) throw new Error(`Kiln sent ${k.bytes} bytes, expected ${opt.size}`);
      kilnRuns.push(k.seconds);
      const n = await download(`http://127.0.0.1:${nginxPort}/blob`);
      if (n.bytes !== opt.size) throw new Error(`nginx sent ${n.bytes} bytes`);
      nginxRuns.push(n.seconds);
    }

    const cpS = median(cpRuns);
    const kS = median(kilnRuns);
    const nS = median(nginxRuns);
    console.log(`\n${(opt.size / MiB).toFixed(0)} MiB, median of ${opt.runs} (best in brackets):`);
    console.log(`  cp (baseline)                      ${fmt(opt.size, cpS)}  (${fmt(opt.size, best(cpRuns)).trim()})`);
    console.log(`  bare node:http PUT → file          ${fmt(opt.size, median(bareUp))}  (the HTTP floor, no Kiln)`);
    console.log(`  tus upload, one PATCH              ${fmt(opt.size, up.seconds)}`);
    console.log(`  verification (sha256 + format)     ${fmt(opt.size, verifySeconds)}  (after the last byte until ready, incl. job pickup)`);
    console.log(`  nginx sendfile (baseline)          ${fmt(opt.size, nS)}  (${fmt(opt.size, best(nginxRuns)).trim()})`);
    console.log(`  bare node:http file → GET          ${fmt(opt.size, median(bareDown))}  (createReadStream.pipe, ${BLOB_READ_CHUNK / MiB} MiB reads, no Kiln)`);
    console.log(`  Kiln blob route                    ${fmt(opt.size, kS)}  (${fmt(opt.size, best(kilnRuns)).trim()})`);
    console.log(`ratio upload tus/cp: ${(cpS / up.seconds).toFixed(2)}   ratio download Kiln/nginx: ${(nS / kS).toFixed(2)}   (1.00 = as fast as the baseline)`);
    console.log(`against the bare node:http floor: upload ${(median(bareUp) / up.seconds).toFixed(2)}, download ${(median(bareDown) / kS).toFixed(2)}`);
    console.log(`(cores: ${os.cpus().length}; client, Kiln, PostgreSQL and nginx share them; loopback, page cache warm)`);
  } finally {
    // nginx by its pid (its master stops its worker); Kiln by its process group (launcher, web, worker).
    if (nginx && nginx.exitCode === null) nginx.kill("SIGTERM");
    await bare?.close();
    if (kiln && kiln.exitCode === null) {
      try {
        process.kill(-kiln.pid!, "SIGTERM");
      } catch {}
      await new Promise<void>((r) => {
        kiln!.once("exit", () => r());
        setTimeout(r, 30_000).unref();
      });
    }
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

main().catch((e) => {
  console.error(`bench:images failed: ${(e as Error).message}`);
  process.exit(1);
});
