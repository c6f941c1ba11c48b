// The application's database handle. Routes and jobs get it here; queries in db/ take it as their first argument.
import { getDb, type Db } from "@/db/client";
import { getEnv } from "./env";

export type { Db, DbOrTx } from "@/db/client";

export function getAppDb(): Db {
  const url = getEnv().DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start Kiln with `npm start`, which provides it.");
  return getDb(url);
}
