// Where Kiln's migrations ship, for db/migrate.ts, which takes the folder from its caller.
import { applyMigrations } from "@/db/migrate";
import { projectPath } from "./project-root";

/** Applies pending migrations from db/migrations; safe to run on every start. */
export async function runMigrations(url: string): Promise<void> {
  // From the project root, not import.meta.url: the launcher runs bundled (.build/).
  await applyMigrations(url, projectPath("db", "migrations"));
}
