import { sql } from "drizzle-orm";
import type { DbOrTx } from "../client";

export async function pingDatabase(db: DbOrTx): Promise<void> {
  await db.execute(sql`select 1`);
}
