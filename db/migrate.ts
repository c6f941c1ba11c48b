import { migrate } from "drizzle-orm/postgres-js/migrator";
import { createDb } from "./client";

/**
 * Applies pending drizzle-kit migrations from `migrationsFolder`; safe to run on every start.
 * The caller says where the folder is (lib/runtime/migrations.ts): db/ cannot know where the
 * SQL files ship once the code is bundled, and must not reach up into lib/ to find out.
 */
export async function applyMigrations(url: string, migrationsFolder: string): Promise<void> {
  const { db, close } = createDb(url, { max: 1 });
  try {
    await migrate(db, { migrationsFolder });
  } finally {
    await close();
  }
}
