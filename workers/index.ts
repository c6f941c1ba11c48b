// The worker process: runs pg-boss jobs, never inside the Next.js server.
// Started by `npm start` beside the web server; stops cleanly on SIGTERM.
import { getEnv } from "@/lib/env";
import { getLogger } from "@/lib/log";
import { startWorker } from "./worker";

async function main(): Promise<void> {
  const log = getLogger("worker");
  const url = getEnv().DATABASE_URL;
  if (!url) {
    console.error("The worker needs DATABASE_URL (npm start provides it).");
    process.exit(1);
  }
  const worker = await startWorker(url);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker stopping");
    await worker.stop().catch((err) => log.error({ err }, "worker stop failed"));
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // Started by the launcher with an IPC channel: if the launcher dies, so do we.
  process.on("disconnect", () => void stop("launcher gone"));
}

main().catch((err) => {
  getLogger("worker").fatal({ err: err instanceof Error ? err.message : err }, "worker failed to start");
  process.exit(1);
});
