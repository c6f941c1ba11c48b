import { deleteExpiredAuthRows } from "@/db/queries/auth";
import type { Db } from "../db";
import { getEnv } from "../env";

export function purgeExpiredAuthRows(db: Db) {
  return deleteExpiredAuthRows(db, { windowSeconds: getEnv().KILN_RATE_LIMIT_WINDOW_SECONDS });
}
