import { startEmbeddedPostgres } from "../lib/runtime/embedded-postgres";
import { runMigrations } from "../db/migrate";
const t0=Date.now();
const h = await startEmbeddedPostgres("/tmp/kiln-pg-test");
console.log("up", h.url, Date.now()-t0);
await runMigrations(h.url);
console.log("migrated", Date.now()-t0);
await h.stop();
console.log("stopped", Date.now()-t0);
