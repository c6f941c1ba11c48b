import { defineConfig } from "drizzle-kit";

// Only `drizzle-kit generate` is used: migrations are SQL files in db/migrations,
// applied at start by db/migrate.ts, never pushed.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/index.ts",
  out: "./db/migrations",
});
