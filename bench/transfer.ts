// `npm run bench:transfer`: image bytes at the link's speed? A running Kiln (`npm start` on a
// throwaway data directory: portal, worker, boot server) against the baselines, in one run, on
// the same file and disk, with the same client (curl):
//  - download: the boot server's blob path (a deployment's token, lib/images/blob-node.ts) vs
//    nginx `sendfile` of the very same stored file, one client and four at once; for context
//    also the same path through the portal's port (one proxy hop) and people's Next route;
//  - upload: tus through the portal's port (one PATCH of the whole file, handleUploadNode) vs a
//    bare node:http PUT into a file on the same disk vs `cp`.
// Page cache warm. Prints medians and the ratios. Not a test (see bench/README.md).
//
// Options: --size 1GiB --runs 3
import { spawn, spawnSync } from "node:child_process";
import { randomFill } from "node:crypto";
import { existsSync } from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { createDb } from "@/db/client";
import { insertDeployment } from "@/db/queries/boot";
import { getUserByEmail } from "@/db/queries/users";
import { generateSecret, hashSecret } from "@/lib/auth/secrets";
import { findFreePort, startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";
import { encodeMetadata } from "@/test/harness/tus";
import { benchApi, seedBenchHosts, startBenchKiln, waitForUrl } from "./kiln";

const MiB = 1024 * 1024;

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kib|mib|gib)?$/i.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  return Math.round(Number(m[1]) * { b: 1, kib: 1024, mib: MiB, gib: 1024 * MiB }[(m[2] ?? "b").toLowerCase() as "b"]);
}

const { values: args } = parseArgs({ options: { size: { type: "string", default: "1GiB" }, runs: { type: "string", default: "3" } } });
const SIZE = parseSize(args.size);
const RUNS = Number(args.runs);

async function writeRandomFile(file: string, size: number): Promise<void> {
  const fh = await fsp.open(file, "w");
  const buf = Buffer.alloc(8 * MiB);
  try {
    for (let done = 0; done < size; done += buf.length) {
      await promisify(randomFill)(buf);
      await fh.write(buf, 0, Math.min(buf.length, size - done));
    }
  } finally {
    await fh.close();
  }
}

/** curl with the given arguments; resolves with its -w output. */
function curl(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn("curl", ["-sS", "--fail-with-body", ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d));
    c.stderr.on("data", (d: Buffer) => (err += d));
    c.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`curl ${argv.join(" ")}: exit ${code} ${err} ${out.slice(0, 300)}`))));
  });
}

/** Seconds for `clients` curls downloading the URL at once (all bytes checked). */
async function download(url: string, clients: number, headers: string[] = []): Promise<number> {
  const t0 = process.hrtime.bigint();
  const sizes = await Promise.all(Array.from({ length: clients }, () => curl(["-L", "-o", "/dev/null", "-w", "%{size_download}", ...headers.flatMap((h) => ["-H", h]), url])));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const n of sizes) if (Number(n) !== SIZE) throw new Error(`${url} sent ${n} bytes, expected ${SIZE}`);
  return s;
}

/** The floor of any HTTP upload in Node: a bare node:http server piping a PUT body into a file. */
const BARE_PUT = `
const fs = require("node:fs"), http = require("node:http");
const server = http.createServer((req, res) => {
  const out = fs.createWriteStream(process.argv[1]);
  req.pipe(out);
  out.on("finish", () => res.writeHead(204).end());
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (bytes: number, s: number) => bytes / MiB / s;

async function main(): Promise<void> {
  for (const [bin, pkg] of [["/usr/sbin/nginx", "nginx-light"], ["/usr/bin/curl", "curl"]] as const) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install ${pkg} (or bash scripts/ensure-deps.sh --bench)`);
  }
  const bootPort = await findFreePort();
  const k = await startBenchKiln("transfer", { KILN_BOOT_PORT: String(bootPort) });
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const bootBase = `http://127.0.0.1:${bootPort}`;
    await waitForUrl(`${bootBase}/boot/chain.ipxe`, 60_000);
    const source = path.join(k.tmp, "source.img");
    console.log(`writing ${(SIZE / MiB).toFixed(0)} MiB of random bytes…`);
    await writeRandomFile(source, SIZE);
    const image = await benchApi<{ id: string }>(k, "POST", "/api/v1/images", { name: "transfer" }, 201);

    // Upload rows, alternating: tus through the portal's port, bare node:http PUT, cp.
    const bareTarget = path.join(k.tmp, "bare-upload.img");
    const bare = spawn(process.execPath, ["-e", BARE_PUT, bareTarget], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(bare);
    const barePort = await new Promise<number>((r) => bare.stdout!.once("data", (d: Buffer) => r(Number(d.toString().trim()))));
    const up = { tus: [] as number[], bare: [] as number[], cp: [] as number[] };
    let version = 0;
    for (let i = 0; i < RUNS; i++) {
      const auth = ["-H", `Authorization: Bearer ${k.token}`, "-H", "Tus-Resumable: 1.0.0"];
      let t0 = process.hrtime.bigint();
      const created = await curl(["-D", "-", "-o", "/dev/null", "-X", "POST", ...auth, "-H", `Upload-Length: ${SIZE}`, "-H", `Upload-Metadata: ${encodeMetadata({ imageId: image.id, filename: "t.img" })}`, `${k.base}/api/uploads`]);
      const location = /^location:\s*(\S+)/im.exec(created)?.[1];
      version = Number(/^kiln-image-version:\s*(\d+)/im.exec(created)?.[1]);
      if (!location) throw new Error(`tus creation: ${created}`);
      await curl(["-o", "/dev/null", "-X", "PATCH", ...auth, "-H", "Upload-Offset: 0", "-H", "Content-Type: application/offset+octet-stream", "-H", "Expect:", "-T", source, new URL(location, k.base).toString()]);
      up.tus.push(Number(process.hrtime.bigint() - t0) / 1e9);
      // Verification (sha256 of the whole file) must not overlap the next rows.
      for (;;) {
        const v = await benchApi<{ state: string; failureReason: string | null }>(k, "GET", `/api/v1/images/${image.id}/versions/${version}`, undefined, 200);
        if (v.state === "ready") break;
        if (v.state === "failed") throw new Error(`version ${version} failed: ${v.failureReason}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      t0 = process.hrtime.bigint();
      await curl(["-o", "/dev/null", "-X", "PUT", "-H", "Expect:", "-T", source, `http://127.0.0.1:${barePort}/put`]);
      up.bare.push(Number(process.hrtime.bigint() - t0) / 1e9);
      await fsp.rm(bareTarget);
      t0 = process.hrtime.bigint();
      if (spawnSync("cp", [source, path.join(k.tmp, "cp.img")]).status !== 0) throw new Error("cp failed");
      up.cp.push(Number(process.hrtime.bigint() - t0) / 1e9);
      await fsp.rm(path.join(k.tmp, "cp.img"));
    }

    // Download rows: a deployment's token opens the last version on the boot server.
    const { ids } = await seedBenchHosts(k, 1, "transfer");
    const pg = await startEmbeddedPostgres(path.join(k.dataDir, "postgres"), { attachIfRunning: true });
    const { db, close } = createDb(pg.url, { max: 1 });
    const token = generateSecret();
    const user = (await getUserByEmail(db, k.email))!;
    await insertDeployment(db, { hostId: ids[0]!, userId: user.id, action: "deploy_image", imageId: image.id, imageVersion: version, tokenHash: hashSecret(token), tokenExpiresAt: new Date(Date.now() + 6 * 3600_000) });
    await close();
    const blobFile = path.join(k.dataDir, "images", "blobs", image.id, String(version));
    const nginxPort = await findFreePort();
    const conf = path.join(k.tmp, "nginx.conf");
    await fsp.writeFile(
      conf,
      `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;\nerror_log ${k.tmp}/nginx-error.log;\npid ${k.tmp}/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  default_type application/octet-stream;\n  client_body_temp_path ${k.tmp}/nginx-tmp;\n  server {\n    listen 127.0.0.1:${nginxPort};\n    location = /blob { alias ${blobFile}; }\n  }\n}\n`,
    );
    const nginx = spawn("/usr/sbin/nginx", ["-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(nginx);
    await waitForUrl(`http://127.0.0.1:${nginxPort}/blob`, 10_000, nginx);

    const blobPath = `/images/${image.id}/versions/${version}/blob`;
    const servers: [string, string, string[]][] = [
      ["nginx sendfile (baseline)", `http://127.0.0.1:${nginxPort}/blob`, []],
      ["Kiln boot server, token", `${bootBase}${blobPath}?token=${token}`, []],
      ["Kiln portal port → boot server", `${k.base}${blobPath}?token=${token}`, []],
      ["Kiln Next route, bearer (people)", `${k.base}${blobPath}`, [`Authorization: Bearer ${k.token}`]],
    ];
    await download(servers[0]![1], 1); // page cache warm
    const down = new Map<string, number[]>();
    for (let i = 0; i < RUNS; i++) {
      for (const clients of [1, 4]) {
        for (const [name, url, headers] of servers) {
          const key = `${name}|${clients}`;
          down.set(key, [...(down.get(key) ?? []), await download(url, clients, headers)]);
        }
      }
    }

    const row = (name: string, s: number, extra = "") => console.log(`| ${name} | ${rate(SIZE, s).toFixed(0)} | ${extra} |`);
    console.log(`\n${(SIZE / MiB).toFixed(0)} MiB, median of ${RUNS}; MiB/s (four clients: all bytes / wall time)\n`);
    console.log("| upload | MiB/s | ratio |\n|---|---:|---|");
    row("cp (same disk)", median(up.cp));
    row("bare node:http PUT → file", median(up.bare));
    row("tus through the portal's port, one PATCH", median(up.tus), `**${(median(up.bare) / median(up.tus)).toFixed(2)}** of bare PUT, ${(median(up.cp) / median(up.tus)).toFixed(2)} of cp`);
    console.log("\n| download | one client MiB/s | vs nginx | four clients MiB/s | vs nginx |\n|---|---:|---:|---:|---:|");
    const n1 = median(down.get(`${servers[0]![0]}|1`)!);
    const n4 = median(down.get(`${servers[0]![0]}|4`)!);
    for (const [name] of servers) {
      const s1 = median(down.get(`${name}|1`)!);
      const s4 = median(down.get(`${name}|4`)!);
      console.log(`| ${name} | ${rate(SIZE, s1).toFixed(0)} | ${(n1 / s1).toFixed(2)} | ${rate(4 * SIZE, s4).toFixed(0)} | ${(n4 / s4).toFixed(2)} |`);
    }
    console.log(`\n${os.cpus().length} cores (curl, Kiln's processes, PostgreSQL and nginx share them), load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await k.stop();
  }
}

main().catch((e) => {
  console.error(`bench:transfer failed: ${(e as Error).message}`);
  process.exit(1);
});
