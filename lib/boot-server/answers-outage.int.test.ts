// Two boot servers on one PostgreSQL of this file's own (embedded, so the test can stop and
// start it): while it is stopped both keep answering the machines they know with their last
// answer and everything else with local boot, and keep the writes; once it is back, with no
// step by anyone, the writes land and a new mark reaches both.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { getDeploymentRow } from "@/db/queries/deployments";
import { getAppDb } from "@/lib/db";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "@/lib/runtime/embedded-postgres";
import { runMigrations } from "@/lib/runtime/migrations";
import { stopRenderPool } from "@/lib/templates/render-pool";
import { seedBootLab } from "@/test/harness/boot-answers";
import { setTestEnvDefaults } from "@/test/harness/env";
import { BootAnswers, type BootRequest } from "./answers";
import type { BootAnswer } from "../boot/boot-service";

const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-boot-outage-"));
await fs.chmod(dir, 0o711);
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await fs.rm(dir, { recursive: true, force: true });
});

const req = (mac: string): BootRequest => ({ mac, sourceIp: "10.0.3.1", hostnameHint: null });

async function waitUntil(ms: number, what: string, check: () => boolean | Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - start;
}

it("PostgreSQL stopped: both boot servers answer known machines from memory, others local boot; restarted: writes land and a new mark is seen", async () => {
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
  cleanups.push(stopJobSender, stopRenderPool);

  const lab = await seedBootLab(db, { byte: 0xb7, count: 4 });
  const [idle, marked, halted, later] = lab.macs as [string, string, string, string];
  const runId = await lab.mark(lab.hostIds[1]!);
  await lab.halt(lab.hostIds[2]!, "the write failed: cable pulled");

  const servers = [new BootAnswers({ db, databaseUrl: url }), new BootAnswers({ db, databaseUrl: url })];
  for (const s of servers) {
    await s.start();
    cleanups.push(() => s.stop());
  }
  const known = new Map<string, BootAnswer>();
  for (const mac of [idle, marked, halted]) {
    const [a, b] = await Promise.all(servers.map((s) => s.answer(req(mac))));
    expect(b).toEqual(a);
    known.set(mac, a!);
  }
  expect(known.get(marked)!.body).toContain("preseed/url=");
  expect(known.get(halted)!.body).toContain("cable pulled");
  await Promise.all(servers.map((s) => s.flush()));
  expect((await getDeploymentRow(db, runId))!.bootCount).toBe(2);

  await pg.stop();
  for (const s of servers) {
    for (const [mac, answer] of known) expect(s.answer(req(mac))).toEqual(answer);
    // Not in memory (never asked, or never seen): the database cannot say, so local boot.
    for (const mac of [later, "52:54:00:b7:ee:01"]) expect((await s.answer(req(mac))).body).toContain("this machine boots from its local disk");
  }
  // The flush fails and the outage is noticed; the writes wait (the marked machine booted once more on each).
  await waitUntil(5_000, "both notice the outage", () => servers.every((s) => !s.stats().databaseUp));
  for (const s of servers) {
    expect(s.stats().pendingWrites).toBeGreaterThan(0);
    for (const [mac, answer] of known) expect(s.answer(req(mac))).toEqual(answer);
  }
  await new Promise((r) => setTimeout(r, 1_000));

  pg = await startEmbeddedPostgres(path.join(dir, "pg"));
  expect(pg.url).toBe(url);
  // No step by anyone: the boot servers find the database again and write what waited.
  const back = await waitUntil(20_000, "both write what waited", () => servers.every((s) => s.stats().databaseUp && s.stats().pendingWrites === 0));
  expect((await getDeploymentRow(db, runId))!.bootCount).toBe(2 + 2 * 2);

  // A new mark after the restart reaches both (their LISTEN reconnected by itself).
  for (const s of servers) expect((await s.answer(req(later))).body).toContain("boots from its local disk");
  await lab.mark(lab.hostIds[3]!);
  const seen = await waitUntil(10_000, "both see the new mark", async () => {
    const answers = await Promise.all(servers.map((s) => s.answer(req(later))));
    return answers.every((a) => a.body.includes("preseed/url="));
  });
  console.log(`writes landed ${Math.round(back)} ms after restart; new mark seen by both after ${Math.round(seen)} ms`);
  for (const s of servers) expect(s.stats()).toMatchObject({ databaseUp: true, errors: 2 });
}, 120_000);
