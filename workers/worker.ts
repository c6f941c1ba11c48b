// Starts pg-boss and registers every job definition; used by workers/index.ts and by tests.
import { PgBoss } from "pg-boss";
import { createDb } from "@/db/client";
import { getLogger } from "@/lib/log";
import { JOBS } from "./jobs";

export async function startWorker(url: string): Promise<{ stop: () => Promise<void> }> {
  const log = getLogger("worker");
  const { db, close } = createDb(url, { max: 4 });
  const boss = new PgBoss({ connectionString: url, max: 4, application_name: "kiln-worker" });
  boss.on("error", (err) => log.error({ err }, "pg-boss error"));
  await boss.start();

  for (const job of JOBS) {
    await boss.createQueue(job.name, { retryLimit: job.retryable === false ? 0 : 3, retryBackoff: true });
    await boss.work(job.name, { pollingIntervalSeconds: job.pollingIntervalSeconds ?? 2 }, async (batch) => {
      for (const j of batch) {
        const parsed = job.schema.safeParse(j.data);
        if (!parsed.success) {
          // Invalid payloads are a programming error: fail once, loudly, without retries.
          log.error({ job: job.name, id: j.id, issues: parsed.error.issues }, "invalid job payload");
          continue;
        }
        const started = Date.now();
        const result = await job.handler(db, parsed.data);
        log.info({ job: job.name, id: j.id, ms: Date.now() - started, result }, "job done");
      }
    });
    if (job.cron) await boss.schedule(job.name, job.cron, {});
  }
  log.info({ jobs: JOBS.map((j) => j.name) }, "worker ready");

  return {
    stop: async () => {
      await boss.stop({ graceful: true, timeout: 10_000 });
      await close();
    },
  };
}

