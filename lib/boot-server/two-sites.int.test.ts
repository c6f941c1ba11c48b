// Two real boot server processes (scripts/boot-server.ts, as `npm run boot-server` runs it) on
// one database, serving sites a and b from two ports (issue 13): a machine discovered through
// b joins site b (and one through a, site a), a mark made through lib — as the portal makes it —
// is answered by both within a second, and each beats into boot_servers (and says when it stopped).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { findHostByMac } from "@/db/queries/boot";
import { getEnv, getProcessEnv } from "@/lib/env";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { findFreePort } from "@/lib/runtime/embedded-postgres";
import { ensureSite, listBootServers } from "@/lib/sites/sites";
import { stopRenderPool } from "@/lib/templates/render-pool";
import { seedBootLab, type BootLab } from "@/test/harness/boot-answers";
import { useTestDb } from "@/test/harness/database";

const root = path.resolve(import.meta.dirname, "..", "..");
const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-two-sites-"));
const tag = randomBytes(3).toString("hex");

type Server = { site: string; name: string; port: number; child: ChildProcess; output: () => string };
const servers: Server[] = [];
let lab: BootLab;

async function waitUntil(ms: number, what: string, check: () => boolean | Promise<boolean>, every = 20): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms\n${servers.map((s) => `[${s.site}] ${s.output().slice(-1500)}`).join("\n")}`);
    await new Promise((r) => setTimeout(r, every));
  }
  return performance.now() - start;
}

async function startBootServer(site: string): Promise<Server> {
  const port = await findFreePort();
  const name = `two-sites-${site}-${tag}`;
  const env: NodeJS.ProcessEnv = {
    ...getProcessEnv(),
    DATABASE_URL: t.url,
    // Runs' tokens are derived from it: the same key as this process, which makes the marks.
    KILN_SECRET_KEY: getEnv().KILN_SECRET_KEY,
    KILN_SITE: site,
    KILN_BOOT_PORT: String(port),
    KILN_BOOT_URL: `http://127.0.0.1:${port}`,
    KILN_BOOT_SERVER_NAME: name,
    KILN_HOST: "127.0.0.1",
    KILN_DATA_DIR: dataDir,
    // About sites: a first boot here is recorded and answered local boot, not commissioned (docs/commissioning.md).
    KILN_COMMISSION_ON_DISCOVERY: "false",
    // Both would ask for TFTP port 69; not what this test is about.
    KILN_TFTP_PORT: "off",
    LOG_LEVEL: "warn",
  };
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/boot-server.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const s = { site, name, port, child, output: () => output };
  servers.push(s);
  return s;
}

const boot = (s: Server, mac: string) => fetch(`http://127.0.0.1:${s.port}/boot/${mac.replace(/:/g, "-")}`).then(async (r) => ({ status: r.status, body: await r.text() }));

function stop(s: Server): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    s.child.once("exit", () => resolve());
    s.child.kill("SIGTERM");
    setTimeout(() => (s.child.kill("SIGKILL"), resolve()), 10_000).unref();
  });
}

beforeAll(async () => {
  // Both start while the lab is seeded: their start-up (tsx) is most of this file's time.
  const starting = [startBootServer("a"), startBootServer("b")];
  lab = await seedBootLab(t.db, { byte: 0xc7, count: 2 });
  for (const s of await Promise.all(starting)) {
    await waitUntil(30_000, `boot server ${s.site} listening`, async () => {
      if (s.child.exitCode !== null) throw new Error(`boot server ${s.site} exited (${s.child.exitCode}):\n${s.output()}`);
      return fetch(`http://127.0.0.1:${s.port}/boot/chain.ipxe`).then((r) => r.status === 200, () => false);
    }, 100);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map(stop));
  await stopRenderPool();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

it("two boot servers, sites a and b on two ports of one database: discovery joins the server's site, a mark is answered by both within 1 s, both beat", async () => {
  const [a, b] = servers as [Server, Server];
  const siteA = await ensureSite(t.db, "a");
  const siteB = await ensureSite(t.db, "b");
  expect(siteA.id).not.toBe(siteB.id);
  // Each site got its server's URL (new sites take KILN_BOOT_URL); the chain script points there.
  expect(siteB.bootUrl).toBe(`http://127.0.0.1:${b.port}`);
  expect((await fetch(`http://127.0.0.1:${b.port}/boot/chain.ipxe`).then((r) => r.text()))).toContain(`http://127.0.0.1:${b.port}/boot/`);

  // Machines nobody registered: one asks b, one asks a; each becomes a new host of that server's site.
  const viaB = "52:54:00:c7:0b:01";
  const viaA = "52:54:00:c7:0a:01";
  expect((await boot(b, viaB)).body).toContain("this machine boots from its local disk");
  expect((await boot(a, viaA)).status).toBe(200);
  await waitUntil(10_000, "both discoveries written", async () => Boolean((await findHostByMac(t.db, viaB)) && (await findHostByMac(t.db, viaA))));
  expect((await findHostByMac(t.db, viaB))!.host).toMatchObject({ siteId: siteB.id, state: "new" });
  expect((await findHostByMac(t.db, viaA))!.host).toMatchObject({ siteId: siteA.id, state: "new" });

  // A held host, answered local boot by both (and so kept in their memory), then marked.
  const [mac] = lab.macs as [string];
  for (const s of [a, b]) expect((await boot(s, mac)).body).toContain("this machine boots from its local disk");
  await lab.mark(lab.hostIds[0]!);
  const marked = performance.now();
  const seen = await Promise.all(
    [a, b].map(async (s) => {
      await waitUntil(5_000, `boot server ${s.site} answers the mark`, async () => (await boot(s, mac)).body.includes("preseed/url="), 10);
      return performance.now() - marked;
    }),
  );
  expect(Math.max(...seen)).toBeLessThan(1_000);

  // Heartbeats: one row per server, in its site, up (the first beat is written at start).
  await waitUntil(10_000, "both heartbeats written", async () => (await listBootServers(t.db, lab.admin)).filter((r) => r.name.endsWith(tag)).length === 2);
  const rows = await listBootServers(t.db, lab.admin);
  expect(rows.filter((r) => r.name.endsWith(tag)).map((r) => ({ name: r.name, siteName: r.siteName, status: r.status, url: r.url }))).toEqual(
    expect.arrayContaining([
      { name: a.name, siteName: "a", status: "up", url: `http://127.0.0.1:${a.port}` },
      { name: b.name, siteName: "b", status: "up", url: `http://127.0.0.1:${b.port}` },
    ]),
  );
  expect(rows.find((r) => r.name === a.name)!.pid).toBe(a.child.pid);

  // A clean stop says so (the console shows "stopped", not "down" two minutes later).
  await Promise.all([a, b].map(stop));
  expect(a.child.exitCode).toBe(0);
  const after = await listBootServers(t.db, lab.admin);
  for (const s of [a, b]) expect(after.find((r) => r.name === s.name)!.status).toBe("stopped");
}, 40_000);
