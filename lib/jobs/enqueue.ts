// The web side only enqueues; the worker process runs. Payloads are validated here,
// so a bad payload fails at the caller instead of as a retried job.
import { PgBoss } from "pg-boss";
import type { z } from "zod";
import { getEnv } from "../env";
import { parseInput } from "../validation/parse";
import type { JobDefinition } from "./definition";

const globalForBoss = globalThis as unknown as { kilnBoss?: Promise<PgBoss> };

function getSender(): Promise<PgBoss> {
  globalForBoss.kilnBoss ??= (async () => {
    const url = getEnv().DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set");
    // A sender only: no maintenance, no cron, no schema migration (the worker owns those).
    const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false, migrate: false });
    await boss.start();
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

export async function enqueueJob<S extends z.ZodType>(job: Pick<JobDefinition<S>, "name" | "schema">, data: z.input<S>): Promise<string | null> {
  const payload = parseInput(job.schema, data) as object;
  return (await getSender()).send(job.name, payload);
}
