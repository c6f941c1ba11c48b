import { hitRateLimit } from "@/db/queries/auth";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import { getEnv } from "../env";

export type RateLimitRule = { key: string; limit: number; what: string };

export function describeWait(seconds: number): string {
  if (seconds <= 1) return "1 second";
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/**
 * Counts a hit against every rule and refuses with 429 when any is over its limit.
 * Hits are counted before the work is done, so failed and successful attempts alike use up the budget.
 */
export async function enforceRateLimits(db: DbOrTx, rules: RateLimitRule[]): Promise<void> {
  const windowSeconds = getEnv().KILN_RATE_LIMIT_WINDOW_SECONDS;
  for (const rule of rules) {
    const { count, resetAt } = await hitRateLimit(db, { key: rule.key, windowSeconds });
    if (count > rule.limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
      throw new AppError(
        "rate_limited",
        `Too many ${rule.what}. Please wait ${describeWait(retryAfterSeconds)} and try again.`,
        { retryAfterSeconds },
      );
    }
  }
}
