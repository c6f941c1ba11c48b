import { z } from "zod";
import type { Db } from "../db";

/**
 * A job apart from its handler: the queue name, the payload contract, and how the worker
 * schedules and retries it. Each lives in lib/<domain>/jobs.ts, beside the code that enqueues
 * it; the worker (workers/jobs/) attaches the handler. lib/ never imports the worker, so the
 * two sides cannot form an import cycle, and enqueuing does not load handler code.
 */
export type JobContract<S extends z.ZodType = z.ZodType> = {
  name: string;
  schema: S;
  /** Cron expression when the worker should also run it on a schedule. */
  cron?: string;
  /** False when running twice could do harm; pg-boss then does not retry. */
  retryable?: boolean;
  /** How often the worker looks for new jobs (pg-boss default 2 s; at least 0.5): shorter when someone watches for the result. */
  pollingIntervalSeconds?: number;
  /**
   * Heartbeat interval (≥ 10 s) for jobs that must be retried soon after their worker dies
   * (SIGKILL, OOM): pg-boss fails a job whose heartbeat stops, instead of waiting for its
   * expiry. Their handlers must be safe to run again.
   */
  heartbeatSeconds?: number;
  /**
   * Also queued once when the worker starts (payload `{}`), for safety nets that mend what a
   * crash left behind: they should not wait for their next scheduled run.
   */
  runAtStart?: boolean;
  /**
   * Also queued every this many seconds while the worker runs (one queued copy at most), for
   * schedules finer than cron's minute or set from the environment (the power poll); 0: never.
   */
  everySeconds?: () => number;
};

/** A job the worker runs: its contract and the handler. */
export interface JobDefinition<S extends z.ZodType = z.ZodType> extends JobContract<S> {
  handler: (db: Db, data: z.infer<S>) => Promise<unknown>;
}

export function defineJobContract<S extends z.ZodType>(contract: JobContract<S>): JobContract<S> {
  return contract;
}

export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

/** The payload of a job that reads what to do from the database: none. */
export const emptyJobSchema = z.object({}).strict();

/**
 * A reconciler: makes the world (a directory, NBD exports, files) match rows in the database,
 * idempotently. Queued after each change, and also every minute and at worker start, so a
 * change whose enqueue a crash lost (killed right after commit, the worker down) is still
 * carried out.
 */
export function defineReconcileJobContract(name: string): JobContract<typeof emptyJobSchema> {
  return defineJobContract({ name, schema: emptyJobSchema, cron: "* * * * *", runAtStart: true, retryable: true, pollingIntervalSeconds: 1 });
}
