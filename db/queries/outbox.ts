import { count, desc, eq } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { outbox } from "../schema";

export async function insertOutboxMail(db: DbOrTx, values: typeof outbox.$inferInsert) {
  const [row] = await db.insert(outbox).values(values).returning();
  return row!;
}

export async function listOutboxMail(db: DbOrTx, params: { limit: number; offset: number }) {
  const rows = await db.select().from(outbox).orderBy(desc(outbox.createdAt)).limit(params.limit).offset(params.offset);
  const [t] = await db.select({ n: count() }).from(outbox);
  return { rows, total: t?.n ?? 0 };
}

export async function listOutboxMailTo(db: DbOrTx, to: string) {
  return db.select().from(outbox).where(eq(outbox.to, to)).orderBy(desc(outbox.createdAt));
}
