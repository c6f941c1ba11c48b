import { deleteExpiredAuthRows } from "@/db/queries/auth";
import type { Db } from "../db";
import { getEnv } from "../env";
import { purgeSignInFailures } from "./sign-in-throttle";

export async function purgeExpiredAuthRows(db: Db, now = new Date()) {
  const rows = await deleteExpiredAuthRows(db, { windowSeconds: getEnv().KILN_RATE_LIMIT_WINDOW_SECONDS });
  return { ...rows, signInFailures: await purgeSignInFailures(db, now) };
}
