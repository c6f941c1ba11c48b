import { migrate } from "drizzle-orm/postgres-js/migrator";
import { projectPath } from "@/lib/runtime/project-root";
import { createDb } from "./client";

// From the project root, not import.meta.url: the launcher runs bundled (.build/).
const MIGRATIONS_DIR = projectPath("db", "migrations");

/** Applies pending drizzle-kit migrations; safe to run on every start. */
export async function runMigrations(url: string): Promise<void> {
  const { db, close } = createDb(url, { max: 1 });
  try {
    await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await close();
  }
}
