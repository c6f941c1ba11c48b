// PostgreSQL restarted under a running worker and an open live feed: a PostgreSQL of this
// file's own (embedded, so the test can stop and start it) with a run waiting for its
// machine. After the restart the worker, the web side's pool and the LISTEN connection all
// reconnect by themselves: the machine's reports are taken, the worker's power-off runs,
// the feed delivers the rest, and nothing enqueued before the restart is lost.
import { FakeMachine, recordingPowerPlugin, startBootServer, waitFor, type Reply } from "@/test/harness/provisioning";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import * as hostEvents from "@/app/api/v1/hosts/[id]/events/route";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { getAppDb } from "@/lib/db";
import { getDeployment } from "@/lib/deployments/views";
import { startDeployment } from "@/lib/deployments/start";
import { stopLiveHub } from "@/lib/deployments/live";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "@/lib/runtime/embedded-postgres";
import { runMigrations } from "@/lib/runtime/migrations";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startRouteServer } from "@/test/harness/http-server";
import { startWorker } from "./worker";

const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-pg-restart-"));
await fs.chmod(dir, 0o711);
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await fs.rm(dir, { recursive: true, force: true });
});

/** A machine's request, repeated while the server answers 5xx (as the agent does): a pool meets a dead connection once. */
async function persist(what: () => Promise<Reply>): Promise<Reply> {
  let last: Reply | null = null;
  for (let i = 0; i < 20; i++) {
    last = await what().catch(() => null);
    if (last && last.status < 500) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`still failing: ${last?.status} ${last?.text}`);
}

it("workers, the web side and the live feed reconnect after PostgreSQL restarts, and the run finishes", async () => {
  let pg: EmbeddedPostgresHandle = await startEmbeddedPostgres(path.join(dir, "pg"));
  cleanups.push(() => pg.stop());
  const url = pg.url;
  await runMigrations(url);
  setTestEnvDefaults({ DATABASE_URL: url, KILN_DATA_DIR: path.join(dir, "data") });
  const db = getAppDb();
  cleanups.push(async () => {
    const g = globalThis as unknown as { kilnDb?: { close: () => Promise<void> } };
    await g.kilnDb?.close();
    delete g.kilnDb;
  });

  const admin = actorOf((await createActiveUser(db, { admin: true })).user, null);
  const holder = actorOf((await createActiveUser(db)).user, null);
  const token = (await createApiToken(db, holder.user!.id, { name: "restart" })).token;
  const projectId = (await createProject(db, admin, { name: "restart" })).id;
  await addProjectMember(db, admin, projectId, { userId: holder.user!.id });
  await syncBuiltinTemplates(db);
  const plugin = await recordingPowerPlugin();
  cleanups.push(() => plugin.cleanup());
  const boot = await startBootServer();
  cleanups.push(() => boot.close());
  setTestEnvDefaults({ KILN_BOOT_URL: boot.url });
  const mac = "52:54:00:ab:00:01";
  const hostId = (await createHost(db, admin, { name: "restart-1", interfaces: [{ mac }], power: { driver: "plugin", params: { command: plugin.command } } })).id;
  await createLease(db, admin, { hostIds: [hostId], userId: holder.user!.id, projectId });

  const worker = await startWorker(url, { superviseIntervalSeconds: 1, pollingIntervalSeconds: 0.5 });
  cleanups.push(() => worker.stop(), stopJobSender, stopLiveHub);
  const run = await startDeployment(db, holder, hostId, { action: "wipe_disk" });
  await waitFor("the power step", () => getDeployment(db, holder, run.id), (d) => d.steps[1]!.state === "running");

  // Follow the host's feed across the restart.
  const api = await startRouteServer((req) => hostEvents.GET(req, { params: Promise.resolve({ id: hostId }) } as never));
  cleanups.push(() => api.close());
  const controller = new AbortController();
  cleanups.push(async () => controller.abort());
  const res = await fetch(`${api.url}/api/v1/hosts/${hostId}/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  expect(res.status).toBe(200);
  let feed = "";
  const reading = (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      feed += decoder.decode(value, { stream: true });
    }
  })();

  await pg.stop();
  await new Promise((r) => setTimeout(r, 1_000));
  pg = await startEmbeddedPostgres(path.join(dir, "pg"));
  // Same data directory and port: everyone's URL still names it.
  expect(pg.url).toBe(url);

  const machine = new FakeMachine(boot, mac);
  await persist(() => machine.boot().then((text) => ({ status: machine.token ? 200 : 500, text, json: () => null })));
  await persist(() => machine.file("agent.json"));
  await persist(() => machine.progress({ bytes: 100, totalBytes: 100, phase: "wipe" }));
  await persist(() => machine.done());
  // The power-off is the worker's, enqueued after the restart.
  const done = await waitFor("the run's end after the restart", () => getDeployment(db, holder, run.id).catch(() => null), (d) => d?.state === "done", 30_000);
  expect(done!.steps.map((s) => `${s.name}:${s.state}`)).toEqual(["power_on:done", "boot:done", "agent:done", "wipe:done", "power_off:done"]);
  expect(await plugin.actions()).toEqual(["cycle", "off"]);
  // The feed went on: it delivered the end of the run, which happened after the restart.
  await waitFor("the end of the run in the live feed", async () => feed, (f) => f.includes('"kind":"state","at"') && f.includes('"state":"done"'), 20_000);
  controller.abort();
  await reading;
}, 120_000);
