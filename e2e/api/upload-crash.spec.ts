// The upload crash, for real: `npm start` on its own data directory, an upload whose last
// PATCH is stored in full, and the whole portal killed (SIGKILL: npm's process group, the web
// and worker processes — each in a group of its own — and the embedded PostgreSQL) between
// the last byte reaching the disk and the finish step that would move the version on. Then
// `npm start` again on the same directory: the version becomes ready exactly once, with the
// sha256 of the local file, counted once against the quota.
//
// Where the kill lands, deterministically: every database call a PATCH makes before it writes
// (authentication, the upload's lookup) is over once its first byte is in the upload file. At
// that moment the test freezes the embedded PostgreSQL (SIGSTOP, postmaster first so nothing
// new forks, then every backend), so the finish step's transaction cannot commit; the web
// process goes on writing the bytes, and when the file reaches the declared length everything
// is SIGKILLed. The second start's log then says the upload was finished after the restart,
// not by the hook.
import { createHash, randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../../lib/runtime/embedded-postgres";
import { tusCreate, tusHead, tusPatch } from "../../test/harness/tus";
import { startKiln, type Kiln } from "../support/npm-start";
import { stopProcessGroup, waitForLine, waitForPostgresStopped } from "../support/processes";

const exec = promisify(execFile);
const MiB = 1024 * 1024;

/** The embedded PostgreSQL's postmaster (postmaster.pid, line 1) and its children (the backends). */
function postgresPids(dataDir: string): { postmaster: number; children: () => number[] } {
  const postmaster = Number(readFileSync(path.join(dataDir, "postgres", "data", "postmaster.pid"), "utf8").split("\n")[0]);
  const children = () =>
    readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          // "pid (comm) state ppid …": the command may hold spaces, so read after its ")".
          const stat = readFileSync(`/proc/${d}/stat`, "utf8");
          return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
  return { postmaster, children };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

const sizeOf = (file: string) => (existsSync(file) ? statSync(file).size : -1);

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

test("[UPLOADS] npm start killed between an upload's last byte and its finish step: after a restart the version is ready once, sha256 equal", async () => {
  test.setTimeout(900_000);
  const started = Date.now();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-upload-crash-"));
  await fs.chmod(tmp, 0o711); // the embedded PostgreSQL runs as the `postgres` user and must enter it
  const dataDir = path.join(tmp, "data");
  const port = 40000 + Math.floor(Math.random() * 10000);
  const base = `http://127.0.0.1:${port}`;
  const timings: Record<string, number> = {};
  let first: Kiln | null = null;
  let second: Kiln | null = null;
  try {
    first = startKiln(dataDir, port);
    await waitForLine(first.child, /Kiln is running at/, 300_000);
    timings.firstStart = Date.now() - started;
    const env = first.env;
    const cli = (args: string[]) => exec("npm", ["run", "--silent", "kiln", "--", ...args], { env });
    await cli(["user", "create", "--email", "crash@lab.example", "--password", "verified exactly once 7", "--admin"]);
    const token = (await cli(["token", "create", "--email", "crash@lab.example", "--name", "crash"])).stdout.trim().split("\n").pop()!;
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const image = (await (await fetch(`${base}/api/v1/images`, { method: "POST", headers: auth, body: JSON.stringify({ name: "crash-test" }) })).json()) as { id: string };
    expect(image.id).toBeTruthy();

    // The local file, and its upload up to the last 16 MiB.
    const data = randomBytes(96 * MiB);
    const localFile = path.join(tmp, "disk.img");
    await fs.writeFile(localFile, data);
    const lastAt = data.length - 16 * MiB;
    const created = await tusCreate(`${base}/api/uploads`, token, data.length, { imageId: image.id, filename: "disk.img" });
    expect(created.status, created.body).toBe(201);
    const uploadId = created.location!.split("/").pop()!;
    const uploadFile = path.join(dataDir, "images", "uploads", uploadId);
    expect((await tusPatch(created.location!, token, 0, data.subarray(0, lastAt))).status).toBe(204);
    expect(sizeOf(uploadFile)).toBe(lastAt);

    // The last PATCH. Its first stored byte: freeze the database; the full length: kill everything.
    const pg = postgresPids(dataDir);
    const web = Number(readFileSync(path.join(dataDir, "run", "web.pid"), "utf8"));
    const worker = Number(readFileSync(path.join(dataDir, "run", "worker.pid"), "utf8"));
    const crashed = first;
    const last = tusPatch(created.location!, token, lastAt, data.subarray(lastAt)).then(
      (r) => `HTTP ${r.status}`,
      (e: Error) => `error: ${e.message}`,
    );
    await until("the last PATCH's first bytes in the upload file", () => sizeOf(uploadFile) > lastAt, 30_000);
    signal(pg.postmaster, "SIGSTOP");
    const backends = pg.children();
    for (const pid of backends) signal(pid, "SIGSTOP");
    await until("the upload file at its full length", () => sizeOf(uploadFile) === data.length, 60_000);
    signal(-crashed.child.pid!, "SIGKILL");
    signal(-web, "SIGKILL");
    signal(-worker, "SIGKILL");
    for (const pid of [pg.postmaster, ...backends, ...pg.children()]) signal(pid, "SIGKILL");
    timings.crashedAt = Date.now() - started;
    // The client never heard that its upload was complete.
    expect(await last).not.toBe("HTTP 204");
    await until("the embedded PostgreSQL gone", () => !existsSync(`/proc/${pg.postmaster}`), 20_000);

    // What the crash left: every byte on disk (what HEAD reports, the file store's offset).
    expect(sizeOf(uploadFile)).toBe(data.length);
    expect(sha(await fs.readFile(uploadFile))).toBe(sha(data));

    // The same data directory again; info-level logs to see who finished the upload.
    const restartAt = Date.now();
    second = startKiln(dataDir, port, "info");
    await waitForLine(second.child, /Kiln is running at/, 300_000);
    timings.secondStart = Date.now() - restartAt;

    // HEAD: the full offset (and the finish, if the worker's start-up scan has not run yet),
    // unless that scan has already verified the version and moved its bytes out of the upload
    // directory (then the upload is gone).
    const head = await tusHead(created.location!, token);
    if (head.status === 200) expect(head.offset).toBe(data.length);
    else expect(head.status).toBe(404);

    let version: any = null;
    await expect
      .poll(
        async () => {
          version = await (await fetch(`${base}/api/v1/images/${image.id}/versions/1`, { headers: auth })).json();
          return version.state === "failed" ? `failed: ${version.failureReason}` : version.state;
        },
        { timeout: 120_000, intervals: [200] },
      )
      .toBe("ready");
    timings.readyAfterRestart = Date.now() - restartAt;
    expect(version).toMatchObject({ sha256: sha(await fs.readFile(localFile)), sizeBytes: data.length });
    // Finished after the restart (by the worker's start-up scan or that HEAD): the hook never committed.
    expect(second.output()).toContain("finished an upload whose finish step never ran");

    // The bytes served are the file's.
    const blob = Buffer.from(await (await fetch(`${base}/images/${image.id}/versions/1/blob`, { headers: auth })).arrayBuffer());
    expect(blob.length).toBe(data.length);
    expect(sha(blob)).toBe(sha(data));

    // Exactly once: one version, one "ready" audit entry, the quota counting its bytes once.
    const db = await startEmbeddedPostgres(path.join(dataDir, "postgres"), { attachIfRunning: true });
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const versions = await sql`select version, state from image_versions where image_id = ${image.id}`;
      expect(versions.map((v) => `${v.version}:${v.state}`)).toEqual(["1:ready"]);
      const audits = await sql`select action from audit_log where target_id = ${image.id} and action like 'image.%' order by at`;
      expect(audits.filter((a) => a.action === "image.version.ready")).toHaveLength(1);
      expect(audits.filter((a) => a.action === "image.upload")).toHaveLength(1);
      const [used] = await sql`select coalesce(sum(v.size_bytes), 0)::bigint as n from image_versions v join users u on u.id = v.uploaded_by_user_id where u.email = 'crash@lab.example' and v.state <> 'failed'`;
      expect(Number(used!.n)).toBe(data.length);
      expect(await sql`select id from image_uploads where image_id = ${image.id}`).toHaveLength(0);
    } finally {
      await sql.end({ timeout: 1 });
    }
    expect(existsSync(uploadFile)).toBe(false);

    // A second stranded upload, finished by a zero-length PATCH at its end offset: its last
    // bytes are written into the upload file as the file store writes them, and no finish
    // step runs (nothing in this process called one).
    const small = randomBytes(3 * MiB + 7);
    const other = await tusCreate(`${base}/api/uploads`, token, small.length, { imageId: image.id, filename: "small.img", sha256: sha(small) });
    expect(other.status, other.body).toBe(201);
    const otherFile = path.join(dataDir, "images", "uploads", other.location!.split("/").pop()!);
    expect((await tusPatch(other.location!, token, 0, small.subarray(0, MiB))).status).toBe(204);
    await fs.appendFile(otherFile, small.subarray(MiB));
    // (Not a HEAD first: it would finish the upload itself.)
    expect(sizeOf(otherFile)).toBe(small.length);
    const zero = await tusPatch(other.location!, token, small.length, Buffer.alloc(0));
    expect(zero.status, zero.body).toBe(204);
    expect(zero.headers["upload-offset"]).toBe(String(small.length));
    expect(zero.headers["kiln-image-version"]).toBe("2");
    await expect
      .poll(async () => ((await (await fetch(`${base}/api/v1/images/${image.id}/versions/2`, { headers: auth })).json()) as any).state, { timeout: 60_000 })
      .toBe("ready");

    timings.total = Date.now() - started;
    console.log(`[upload-crash] timings (ms): ${JSON.stringify(timings)}`);
  } finally {
    // Only when the test stopped before its crash: the first portal is still running.
    if (first && first.child.exitCode === null && first.child.signalCode === null) await stopProcessGroup(first.child, 30_000);
    if (second) await stopProcessGroup(second.child, 30_000);
    await waitForPostgresStopped(dataDir).catch(() => {});
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
});
