import { randomUUID } from "node:crypto";
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
});
