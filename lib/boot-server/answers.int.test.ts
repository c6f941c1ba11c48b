// The boot server's answers from memory against a real PostgreSQL: the same answers as the
// uncached path, hits that run no query, a mark seen by two boot servers within a second
// through the triggers' NOTIFY, and the batched writes landing (last seen, discovery, a run's
// boots and its boot step).
import { setTestEnv } from "@/test/harness/env";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDeploymentRow, listLogs, listSteps } from "@/db/queries/deployments";
import { countHostsBySourceIp, findTakenMacs, getHostRow } from "@/db/queries/hosts";
import { answerBootRequest, type BootAnswer } from "@/lib/boot/boot-service";
import { undoMark } from "@/lib/boot/boot-settings";
import { deploymentToken } from "@/lib/deployments/deployment-token";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { stopRenderPool } from "@/lib/templates/render-pool";
import { countingDb, seedBootLab, type BootLab } from "@/test/harness/boot-answers";
import { useTestDb } from "@/test/harness/database";
import { BootAnswers, type BootRequest } from "./answers";

const t = await useTestDb();
let lab: BootLab;
const started: BootAnswers[] = [];

async function startAnswers(p: { db?: typeof t.db; now?: () => Date } = {}): Promise<BootAnswers> {
  const a = new BootAnswers({ db: p.db ?? t.db, databaseUrl: t.url, now: p.now });
  await a.start();
  started.push(a);
  return a;
}

const req = (mac: string, sourceIp = "10.0.0.5", hostnameHint: string | null = null): BootRequest => ({ mac, sourceIp, hostnameHint });

/** Polls until `check` holds; returns the milliseconds it took. */
async function within(ms: number, what: string, check: () => boolean | Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - start;
}

beforeAll(async () => {
  lab = await seedBootLab(t.db, { byte: 0xa5, count: 30 });
});

afterAll(async () => {
  for (const a of started) await a.stop();
  await stopRenderPool();
  await stopJobSender();
});

describe("the same answers as the uncached path", () => {
  it("idle, unknown, malformed, marked, halted: same status, type and bytes; a hit is answered synchronously", async () => {
    const answers = await startAnswers();
    const [idle, marked, halted] = lab.macs;
    const runId = await lab.mark(lab.hostIds[1]!);
    await lab.halt(lab.hostIds[2]!, "the write failed: disk on fire");
    // Forms machines send: iPXE's hexhyp, upper case, bare hex.
    for (const mac of [idle!, idle!.replace(/:/g, "-").toUpperCase(), marked!.replace(/:/g, "-"), halted!.replace(/:/g, ""), "52:54:00:a5:ff:01", "not-a-mac"]) {
      const expected = await answerBootRequest(t.db, { mac, sourceIp: "10.0.0.5" });
      const first = await answers.answer(req(mac));
      expect(first).toEqual(expected);
      if (expected.status !== 200) continue;
      const again = answers.answer(req(mac));
      expect(again).not.toBeInstanceOf(Promise);
      expect(again).toEqual(expected);
    }
    expect((answers.answer(req(marked!)) as BootAnswer).body).toContain(`/${deploymentToken(runId)}/unattended`);
    expect((answers.answer(req(halted!)) as BootAnswer).body).toContain("disk on fire");
    await answers.flush();
    await undoMark(t.db, lab.holder, lab.hostIds[1]!);
  });

  it("an expired token is checked at answer time, from memory too: local boot, as uncached", async () => {
    let clock = new Date();
    const answers = await startAnswers({ now: () => clock });
    const mac = lab.macs[3]!;
    const runId = await lab.mark(lab.hostIds[3]!);
    const run = (await answers.answer(req(mac))) as BootAnswer;
    expect(run.body).toContain("preseed/url=");
    expect(answers.answer(req(mac))).toEqual(run);
    const hits = answers.stats().hits;
    clock = new Date((await getDeploymentRow(t.db, runId))!.tokenExpiresAt.getTime() + 1_000);
    const expired = answers.answer(req(mac));
    expect(answers.stats().hits).toBe(hits + 1);
    expect(expired).toEqual(await answerBootRequest(t.db, { mac, sourceIp: "10.0.0.5", now: clock }));
    expect((expired as BootAnswer).body).toContain("this machine boots from its local disk");
    await answers.flush();
    await undoMark(t.db, lab.holder, lab.hostIds[3]!);
  });
});

describe("hits", () => {
  it("run no query, and batch their writes: one statement for many hosts' last seen", async () => {
    const counted = countingDb(t.db);
    const answers = await startAnswers({ db: counted.db });
    const macs = lab.macs.slice(5, 25);
    await Promise.all(macs.map((mac) => answers.answer(req(mac, "10.0.1.1"))));
    await answers.flush();
    const before = counted.queries();
    for (let i = 0; i < 1_000; i++) {
      const a = answers.answer(req(macs[i % macs.length]!, "10.0.1.1"));
      expect(a).not.toBeInstanceOf(Promise);
    }
    // A new address is news at once: twenty touches, queued.
    for (const mac of macs) answers.answer(req(mac, "10.0.1.2"));
    expect(counted.queries()).toBe(before);
    expect(answers.stats().pendingWrites).toBe(20);
    await answers.flush();
    expect(counted.queries() - before).toBe(1);
    expect(await getHostRow(t.db, lab.hostIds[5]!)).toMatchObject({ sourceIp: "10.0.1.2", lastSeenAt: expect.any(Date) });
    expect(answers.stats()).toMatchObject({ pendingWrites: 0, databaseUp: true, errors: 0 });
  });
});

describe("changes reach every boot server through NOTIFY", () => {
  it("a mark made in the portal is answered by two boot servers within 1 s, and undoing it too", async () => {
    const [a, b] = [await startAnswers(), await startAnswers()];
    const mac = lab.macs[4]!;
    for (const s of [a, b]) {
      await s.answer(req(mac));
      expect((s.answer(req(mac)) as BootAnswer).body).toContain("boots from its local disk");
    }
    await lab.mark(lab.hostIds[4]!);
    const isRun = (s: BootAnswers) => async () => (await s.answer(req(mac))).body.includes("preseed/url=");
    const tookA = await within(1_000, "boot server A sees the mark", isRun(a));
    const tookB = await within(1_000, "boot server B sees the mark", isRun(b));
    await undoMark(t.db, lab.holder, lab.hostIds[4]!);
    const isLocal = (s: BootAnswers) => async () => (await s.answer(req(mac))).body.includes("boots from its local disk");
    await within(1_000, "boot server A sees the undo", isLocal(a));
    await within(1_000, "boot server B sees the undo", isLocal(b));
    expect(Math.max(tookA, tookB)).toBeLessThan(1_000);
    await a.flush();
    await b.flush();
  });

  it("an unknown MAC is kept as unknown until an interface with it appears", async () => {
    // About the memory of unknown MACs: with commissioning on discovery a first boot is a host at once (commission.int.test.ts).
    setTestEnv({ KILN_COMMISSION_ON_DISCOVERY: "false" });
    const answers = await startAnswers();
    const mac = "52:54:00:a5:ee:01";
    await answers.answer(req(mac, "10.0.2.1", "rack9"));
    expect(answers.answer(req(mac, "10.0.2.1"))).not.toBeInstanceOf(Promise);
    const other = await startAnswers();
    await other.answer(req(mac, "10.0.2.1"));
    // One discovery, written by whichever flushes first; both stop treating the MAC as unknown.
    await answers.flush();
    await other.flush();
    expect(await findTakenMacs(t.db, [mac])).toHaveLength(1);
    const host = await getHostRow(t.db, (await findTakenMacs(t.db, [mac]))[0]!.hostId);
    expect(host).toMatchObject({ name: "new-525400a5ee01", state: "new", hostnameHint: "rack9", sourceIp: "10.0.2.1" });
    await within(1_000, "the discovered host is read again", () => !(answers.answer(req(mac, "10.0.2.1")) instanceof Promise) && answers.stats().misses >= 2);
  });
});

describe("batched writes land", () => {
  it("a run's first boot is written before its answer; later boots are counted together and noted once per flush", async () => {
    const answers = await startAnswers();
    const mac = lab.macs[26]!;
    const runId = await lab.mark(lab.hostIds[26]!);
    await answers.answer(req(mac));
    // pending → running and the boot step: not lost if the boot server dies right after answering.
    expect(await getDeploymentRow(t.db, runId)).toMatchObject({ bootCount: 1, state: "running", startedAt: expect.any(Date) });
    expect((await listSteps(t.db, [runId])).find((s) => s.name === "boot")!.startedAt).not.toBeNull();
    for (let i = 0; i < 2; i++) expect(answers.answer(req(mac))).not.toBeInstanceOf(Promise);
    expect((await getDeploymentRow(t.db, runId))!.bootCount).toBe(1);
    await answers.flush();
    expect((await getDeploymentRow(t.db, runId))!.bootCount).toBe(3);
    for (let i = 0; i < 2; i++) answers.answer(req(mac));
    await answers.flush();
    expect((await getDeploymentRow(t.db, runId))!.bootCount).toBe(5);
    const lines = (await listLogs(t.db, { deploymentId: runId, limit: 100 })).map((l) => l.line);
    expect(lines.filter((l) => l.includes("network-booted"))).toEqual([
      "the machine network-booted and got its boot script",
      "the machine network-booted again (boot 3); it continues the same run",
      "the machine network-booted again (boot 5); it continues the same run",
    ]);
    await undoMark(t.db, lab.holder, lab.hostIds[26]!);
  });

  it("a write the database refuses is dropped, not taken for an outage, and does not hold up the others", async () => {
    // A site that does not exist: the discovery's insert breaks its foreign key.
    const answers = new BootAnswers({ db: t.db, databaseUrl: t.url, siteId: "00000000-0000-4000-8000-00000000dead" });
    await answers.start();
    started.push(answers);
    await answers.answer(req("52:54:00:a5:ee:02", "10.0.4.1"));
    await answers.answer(req(lab.macs[27]!, "10.0.4.1"));
    expect(await answers.flush()).toEqual({ ok: true });
    expect(answers.stats()).toMatchObject({ databaseUp: true, pendingWrites: 0 });
    expect(await findTakenMacs(t.db, ["52:54:00:a5:ee:02"])).toHaveLength(0);
    expect(await getHostRow(t.db, lab.hostIds[27]!)).toMatchObject({ sourceIp: "10.0.4.1" });
  });

  it("discovery keeps the per-source flood limit: 110 unknown MACs from one address record 100 hosts", async () => {
    // The limit, not the commissioning runs that each discovery would otherwise get.
    setTestEnv({ KILN_COMMISSION_ON_DISCOVERY: "false" });
    const answers = await startAnswers();
    for (let i = 0; i < 110; i++) {
      const a = await answers.answer(req(`02:00:00:a5:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`, "10.9.9.7"));
      expect(a.status).toBe(200);
    }
    await answers.flush();
    expect(await countHostsBySourceIp(t.db, "10.9.9.7")).toBe(100);
  });
});
