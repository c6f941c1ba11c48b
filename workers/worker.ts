// Starts pg-boss and registers every job definition; used by workers/index.ts and by tests.
import { PgBoss, type JobResult } from "pg-boss";
import { z } from "zod";
import { createDb } from "@/db/client";
import { getLogger } from "@/lib/log";
import { JOBS } from "./jobs";

export type WorkerOptions = {
  /** How often pg-boss looks for jobs whose worker died (heartbeat) or expired; default 60 s. */
  superviseIntervalSeconds?: number;
  /** How often each queue is polled for new jobs; default 2 s (tests go faster). */
  pollingIntervalSeconds?: number;
};

export async function startWorker(url: string, options: WorkerOptions = {}): Promise<{ stop: () => Promise<void> }> {
  const log = getLogger("worker");
  const { db, close } = createDb(url, { max: 4 });
  const supervise = options.superviseIntervalSeconds;
  const boss = new PgBoss({
    connectionString: url,
    max: 4,
    application_name: "kiln-worker",
    ...(supervise ? { superviseIntervalSeconds: supervise, monitorIntervalSeconds: supervise } : {}),
  });
  boss.on("error", (err) => log.error({ err }, "pg-boss error"));
  await boss.start();

  const timers: NodeJS.Timeout[] = [];
  for (const job of JOBS) {
    const queue = {
      retryLimit: job.retryable === false ? 0 : 3,
      retryBackoff: true,
      ...(job.heartbeatSeconds ? { heartbeatSeconds: job.heartbeatSeconds } : {}),
      // A periodic job is queued or running once at most: a slow run is not piled up behind.
      ...(job.everySeconds ? { policy: "exclusive" as const } : {}),
    };
    await boss.createQueue(job.name, queue);
    // A test may ask every queue to poll faster than its definition says.
    const pollingIntervalSeconds = Math.min(job.pollingIntervalSeconds ?? 2, options.pollingIntervalSeconds ?? Infinity);
    // perJobResults: each job of a batch is settled on its own, so an invalid payload fails
    // without taking the valid jobs beside it along.
    await boss.work(job.name, { pollingIntervalSeconds, perJobResults: true }, async (batch) => {
      const results: JobResult[] = [];
      for (const j of batch) {
        const parsed = job.schema.safeParse(j.data);
        if (!parsed.success) {
          // Invalid payloads are a programming error: fail once, loudly. "deadletter" fails the job
          // for good (no retries: the same payload cannot become valid), with the reason recorded.
          const reason = `invalid job payload: ${z.prettifyError(parsed.error)}`;
          log.error({ job: job.name, id: j.id, issues: parsed.error.issues }, reason);
          results.push({ id: j.id, status: "deadletter", output: { message: reason, issues: parsed.error.issues } });
          continue;
        }
        const started = Date.now();
        // A handler that throws still fails the whole batch (retried per the queue), as before.
        const result = await job.handler(db, parsed.data);
        log.info({ job: job.name, id: j.id, ms: Date.now() - started, result }, "job done");
        results.push({ id: j.id, status: "completed" });
      }
      return results;
    });
    if (job.cron) await boss.schedule(job.name, job.cron, {});
    // One queued copy at most, however often the worker restarts.
    if (job.runAtStart) await boss.send(job.name, {}, { singletonKey: "worker-start" });
    const seconds = job.everySeconds?.() ?? 0;
    if (seconds > 0) {
      const send = () => void boss.send(job.name, {}).catch((err) => log.warn({ err, job: job.name }, "could not queue the periodic job"));
      send();
      timers.push(setInterval(send, seconds * 1000));
    }
  }
  log.info({ jobs: JOBS.map((j) => j.name) }, "worker ready");

  return {
    stop: async () => {
      for (const t of timers) clearInterval(t);
      await boss.stop({ graceful: true, timeout: 10_000 });
      await close();
    },
  };
}

