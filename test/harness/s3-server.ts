// A real S3 service for tests: OpenStack Swift (Debian's python3-swift, installed by
// scripts/ensure-deps.sh) with its s3api middleware, on 127.0.0.1 and random ports, in a
// temporary directory. One proxy, one account, one container and one object server with a
// one-replica ring: the same code a Swift cluster runs, at the smallest size. s3api speaks
// the S3 REST protocol with SigV4 and implements multipart uploads (including ListParts,
// which @tus/s3-store needs to resume) on top of Swift's static large objects.
// No vitest imports, so a bench or e2e setup could start one too:
//   const s3 = await startS3Server(); …s3.kilnEnv()… ; await s3.stop();
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { S3Store } from "@tus/s3-store";

/** @tus/s3-store's AWS SDK client, reached without a dependency on the SDK itself. */
class BucketClient extends S3Store {
  get s3() {
    return this.client;
  }
}

/** Debian's interpreter: the swift package is installed for it, not for a pyenv or venv python3. */
const PYTHON = "/usr/bin/python3";
const S3API = "/usr/lib/python3/dist-packages/swift/common/middleware/s3api/s3api.py";

export type S3ServerHandle = {
  /** http://127.0.0.1:PORT — the S3 endpoint (path-style). */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** An S3 client for the bucket (the AWS SDK's, as @tus/s3-store makes it), for looking inside. */
  client: BucketClient["s3"];
  /** The KILN_* settings that select the S3 backend against this server. */
  kilnEnv: () => Record<"KILN_IMAGE_STORAGE" | "KILN_S3_BUCKET" | "KILN_S3_ENDPOINT" | "KILN_S3_REGION" | "KILN_S3_ACCESS_KEY_ID" | "KILN_S3_SECRET_ACCESS_KEY" | "KILN_S3_FORCE_PATH_STYLE", string>;
  stop: () => Promise<void>;
};

/**
 * Starts the four servers and stops them when its stdin closes — stop(), or this process dying,
 * even by SIGKILL — then removes the directory. It exits as soon as any server does, which is
 * how a server that cannot start is seen.
 */
const SUPERVISOR = `
import os, shutil, subprocess, sys, threading, time
d = sys.argv[1]
run = "import sys\\nfrom swift.common import utils\\nutils.set_swift_dir(sys.argv[1])\\nfrom swift.common.wsgi import run_wsgi\\nsys.exit(run_wsgi(sys.argv[2], sys.argv[3]))"
procs = [subprocess.Popen([sys.executable, "-c", run, d, os.path.join(d, kind + ".conf"), kind + "-server"], stdin=subprocess.DEVNULL)
         for kind in ("account", "container", "object", "proxy")]
closed = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
while not closed.is_set() and all(p.poll() is None for p in procs):
    time.sleep(0.1)
status = max((p.poll() or 0) for p in procs)
for p in procs:
    if p.poll() is None:
        p.terminate()
for p in procs:
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
shutil.rmtree(d, ignore_errors=True)
sys.exit(status)
`;

const RINGS = `
import sys
from swift.common.ring import RingBuilder
d = sys.argv[1]
for kind, port in zip(("account", "container", "object"), sys.argv[2:5]):
    b = RingBuilder(4, 1, 0)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 1.0, "meta": ""})
    b.rebalance()
    b.get_ring().save("%s/%s.ring.gz" % (d, kind))
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/**
 * Swift's listings are eventually consistent: an object server that cannot update its container
 * within container_update_timeout (1 s) queues the update for an updater daemon, and until then
 * the object is missing from listings — ListParts included, so a stored part would look lost.
 * On two busy cores a second is not much; here the object server waits for the update instead.
 */
const OBJECT_TIMEOUTS = `container_update_timeout = 30
node_timeout = 30
conn_timeout = 5
`;

function serverConf(dir: string, kind: string, port: number): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
# One process, no forked workers: stopping the supervisor's child stops the server.
workers = 0
user = ${os.userInfo().username}
swift_dir = ${dir}
devices = ${dir}/srv
mount_check = false
log_level = WARNING
[pipeline:main]
pipeline = ${kind}-server
[app:${kind}-server]
use = egg:swift#${kind}
${kind === "object" ? OBJECT_TIMEOUTS : ""}`;
}

function proxyConf(dir: string, port: number, account: string, user: string, key: string): string {
  // s3api must come before the auth middleware, and slo must follow it for multipart uploads
  // (s3api checks the order at start). tempauth holds the one account's S3 credentials; it
  // insists on the memcache middleware being there, though with no memcached it only caches less.
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${os.userInfo().username}
swift_dir = ${dir}
log_level = WARNING
[pipeline:main]
pipeline = catch_errors proxy-logging cache s3api tempauth slo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
node_timeout = 60
conn_timeout = 5
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_${account}_${user} = ${key} .admin
[filter:slo]
use = egg:swift#slo
`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function runPython(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(PYTHON, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    c.once("error", reject);
    c.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`python3 exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

export async function startS3Server(): Promise<S3ServerHandle> {
  if (!existsSync(PYTHON) || !existsSync(S3API)) {
    throw new Error("OpenStack Swift (python3-swift) is missing: run `bash scripts/ensure-deps.sh`");
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-s3-"));
  let child: ChildProcess | undefined;
  try {
    await fs.mkdir(path.join(dir, "srv", "d1"), { recursive: true });
    const suffix = randomBytes(8).toString("hex");
    await fs.writeFile(path.join(dir, "swift.conf"), `[swift-hash]\nswift_hash_path_suffix = ${suffix}\nswift_hash_path_prefix = ${suffix}\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n`);
    const [account, user, key] = ["kiln", "tests", randomBytes(16).toString("hex")];
    const ports = { account: await freePort(), container: await freePort(), object: await freePort(), proxy: await freePort() };
    await runPython(["-c", RINGS, dir, String(ports.account), String(ports.container), String(ports.object)]);
    for (const kind of ["account", "container", "object"] as const) await fs.writeFile(path.join(dir, `${kind}.conf`), serverConf(dir, kind, ports[kind]));
    await fs.writeFile(path.join(dir, "proxy.conf"), proxyConf(dir, ports.proxy, account, user, key));

    let stderr = "";
    child = spawn(PYTHON, ["-c", SUPERVISOR, dir], { stdio: ["pipe", "ignore", "pipe"] });
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`swift did not start (exit ${child.exitCode}): ${stderr}`);
      const up = await Promise.all(Object.values(ports).map(canConnect));
      if (up.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error(`swift did not listen within 30 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const endpoint = `http://127.0.0.1:${ports.proxy}`;
    const bucket = `kiln-${randomBytes(4).toString("hex")}`;
    const client = new BucketClient({ s3ClientConfig: { bucket, endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: `${account}:${user}`, secretAccessKey: key } } }).s3;
    await client.createBucket({ Bucket: bucket });
    const handle: S3ServerHandle = {
      endpoint,
      bucket,
      region: "us-east-1",
      accessKeyId: `${account}:${user}`,
      secretAccessKey: key,
      client,
      kilnEnv: () => ({
        KILN_IMAGE_STORAGE: "s3",
        KILN_S3_BUCKET: bucket,
        KILN_S3_ENDPOINT: endpoint,
        KILN_S3_REGION: "us-east-1",
        KILN_S3_ACCESS_KEY_ID: `${account}:${user}`,
        KILN_S3_SECRET_ACCESS_KEY: key,
        KILN_S3_FORCE_PATH_STYLE: "true",
      }),
      stop: async () => {
        const c = child!;
        if (c.exitCode !== null) return;
        const exited = new Promise<void>((r) => c.once("exit", () => r()));
        c.stdin!.end();
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (c.exitCode === null) c.kill("SIGKILL");
      },
    };
    return handle;
  } catch (e) {
    child?.stdin?.end();
    if (!child) await fs.rm(dir, { recursive: true, force: true });
    throw e;
  }
}
