// Structured logs (JSON lines) for the web server, workers and scripts alike.
import pino from "pino";
import { getEnv } from "./env";

let root: pino.Logger | undefined;

export function getLogger(component?: string): pino.Logger {
  root ??= pino({
    level: getEnv().LOG_LEVEL,
    base: { pid: process.pid },
    redact: { paths: ["password", "*.password", "token", "*.token", "secret"], censor: "[redacted]" },
  });
  return component ? root.child({ component }) : root;
}
