// The worker process's side of leases: an expire-leases job enqueued the way the web side
// does it is picked up by startWorker and ends the leases whose time is up.
import { afterAll, describe, expect, it } from "vitest";
import { getLease, createLease } from "@/lib/leases/leases";
import { enqueueJob, stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { as, hostStates, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { expireLeasesJob } from "./jobs/expire-leases";
import { startWorker } from "./worker";

const t = await useTestDb();
afterAll(() => stopJobSender());

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("expire-leases job", () => {
  it("ends a lease whose time is up, and only that one, when enqueued", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2 });
    const ann = as(w.members[0]![0]!);
    // The job runs on the real clock: one lease ended a minute ago, one ends in an hour.
    const now = new Date();
    const due = await createLease(t.db, ann, { poolId: w.pool.id, durationHours: 1 }, { now: hoursAfter(now, -1 - 1 / 60) });
    const running = await createLease(t.db, ann, { poolId: w.pool.id, durationHours: 1 }, { now });

    const worker = await startWorker(t.url);
    try {
      expect(await enqueueJob(expireLeasesJob, {})).toEqual(expect.any(String));
      await waitUntil(async () => (await getLease(t.db, ann, due.id)).state === "expired", 15_000);
    } finally {
      await worker.stop();
    }
    expect((await hostStates(t.db, [due.hosts[0]!.id]))[due.hosts[0]!.id]).toBe("available");
    expect((await getLease(t.db, ann, running.id)).state).toBe("active");
    // The staged end's own stage events (end_stage) are checked in lib/leases/staged-end.int.test.ts.
    expect((await getLease(t.db, ann, due.id)).events.map((e) => e.kind).filter((k) => k !== "end_stage")).toEqual(["created", "expired"]);
  });
});
