// The web side only enqueues; the worker process runs. Payloads are validated here,
// so a bad payload fails at the caller instead of as a retried job.
// pg-boss is loaded at the first enqueue, not at import: the boot server reaches this module
// through the agent's reports but enqueues rarely (memory, bench/README.md).
import type { PgBoss } from "pg-boss";
import type { z } from "zod";
import { getEnv } from "../env";
import { getLogger } from "../log";
import { parseInput } from "../validation/parse";
import type { JobContract } from "./definition";

const globalForBoss = globalThis as unknown as { kilnBoss?: Promise<PgBoss> };

function getSender(): Promise<PgBoss> {
  globalForBoss.kilnBoss ??= (async () => {
    const url = getEnv().DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set");
    const { PgBoss } = await import("pg-boss");
    // A sender only: no maintenance, no cron, no schema migration (the worker owns those).
    const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false, migrate: false });
    // Without a listener, a connection the server drops (PostgreSQL restarting) would be an
    // unhandled 'error' event and take the web process down; the pool reconnects by itself.
    boss.on("error", (err) => getLogger("jobs").warn({ err: err instanceof Error ? err.message : err }, "job sender: database error"));
    try {
      await boss.start();
    } catch (e) {
      // No worker has installed pg-boss in this database yet (or it is down): close the pool
      // and let the next enqueue try again, instead of keeping a broken sender forever.
      delete globalForBoss.kilnBoss;
      await boss.stop({ graceful: false, close: true }).catch(() => {});
      throw e;
    }
    return boss;
  })();
  return globalForBoss.kilnBoss;
}

/** Stops the sender (tests, and processes that enqueue and then exit). */
export async function stopJobSender(): Promise<void> {
  const sender = globalForBoss.kilnBoss;
  delete globalForBoss.kilnBoss;
  await (await sender?.catch(() => undefined))?.stop({ graceful: false, close: true });
}

/** `startAfter` delays a job (a deadline check); `singletonKey` keeps one queued copy per key. */
export type EnqueueOptions = { startAfter?: Date; singletonKey?: string };

export async function enqueueJob<S extends z.ZodType>(job: Pick<JobContract<S>, "name" | "schema">, data: z.input<S>, options: EnqueueOptions = {}): Promise<string | null> {
  const payload = parseInput(job.schema, data) as object;
  return (await getSender()).send(job.name, payload, options);
}
