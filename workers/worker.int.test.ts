import { randomUUID } from "node:crypto";
import { PgBoss } from "pg-boss";
import { afterAll, describe, expect, it } from "vitest";
import { insertOneTimeToken, listOneTimeTokensOfUser, listSessionsOfUser } from "@/db/queries/auth";
import { countConnections, countRows, updateSessionExpiry } from "@/db/queries/testing";
import { startSession } from "@/lib/auth/sessions";
import { hashSecret } from "@/lib/auth/secrets";
import { enqueueJob } from "@/lib/jobs/enqueue";
import { createActiveUser, expectAppError, testContext } from "@/test/harness/fixtures";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { purgeExpiredJob } from "./jobs/purge-expired";
import { startWorker } from "./worker";

const t = await useTestDb();

// lib/jobs/enqueue.ts keeps one sender per process; close it before the database is dropped.
afterAll(() => stopJobSender());

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function workerConnections(): Promise<number> {
  return countConnections(t.db, "kiln-worker");
}

describe("worker", () => {
  it("runs the purge-expired job enqueued by the web side, then stops cleanly", async () => {
    const { user } = await createActiveUser(t.db);
    const live = await startSession(t.db, user, testContext());
    const expired = await startSession(t.db, user, testContext());
    await updateSessionExpiry(t.db, { id: expired, expiresAt: new Date(Date.now() - 60_000) });
    const longSpent = new Date(Date.now() - 8 * 24 * 3600_000);
    await insertOneTimeToken(t.db, { purpose: "reset_password", userId: user.id, tokenHash: hashSecret(randomUUID()), expiresAt: longSpent, usedAt: longSpent });
    await insertOneTimeToken(t.db, { purpose: "reset_password", userId: user.id, tokenHash: hashSecret(randomUUID()), expiresAt: new Date(Date.now() + 3600_000) });

    const worker = await startWorker(t.url);
    let stopped = false;
    try {
      expect(await workerConnections()).toBeGreaterThan(0);
      // A bad payload is refused at the caller, not retried by the worker.
      await expectAppError(enqueueJob(purgeExpiredJob, { extra: true } as never), "validation");
      expect(await enqueueJob(purgeExpiredJob, {})).toEqual(expect.any(String));

      const sessionIds = async () => (await listSessionsOfUser(t.db, user.id)).map((r) => r.id);
      await waitUntil(async () => !(await sessionIds()).includes(expired), 15_000);
      expect(await sessionIds()).toEqual([live]);
      expect(await countRows(t.db, ["user_sessions"])).toEqual({ user_sessions: 1 });
      expect(await listOneTimeTokensOfUser(t.db, user.id)).toHaveLength(1);

      const started = Date.now();
      await worker.stop();
      stopped = true;
      expect(Date.now() - started).toBeLessThan(5_000);
      await waitUntil(async () => (await workerConnections()) === 0, 5_000);
    } finally {
      if (!stopped) await worker.stop();
    }
  });
  it("fails an invalid payload once, for good, with the reason; a valid job beside it completes", async () => {
    // Straight through pg-boss: enqueueJob refuses a bad payload before it reaches the queue.
    const sender = new PgBoss({ connectionString: t.url, max: 1, supervise: false, schedule: false, migrate: false });
    const worker = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    try {
      await sender.start();
      const bad = await sender.send(purgeExpiredJob.name, { extra: true });
      const good = await sender.send(purgeExpiredJob.name, {});
      if (!bad || !good) throw new Error("pg-boss did not queue the jobs");
      const job = (id: string) => sender.getJobById(purgeExpiredJob.name, id);
      const settled = async (id: string) => ["completed", "failed"].includes((await job(id))?.state ?? "");
      await waitUntil(async () => (await settled(bad)) && (await settled(good)), 15_000);

      const failed = await job(bad);
      // The queue would retry (purge-expired is retryable), but a payload cannot become valid.
      expect(failed).toMatchObject({ state: "failed", retryLimit: 3, retryCount: 0 });
      expect(failed?.output).toMatchObject({ message: expect.stringMatching(/^invalid job payload: .*extra/s) });
      expect(await job(good)).toMatchObject({ state: "completed" });
    } finally {
      await worker.stop();
      await sender.stop({ graceful: false, close: true });
    }
  });
});
