import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

/** Resolves with the first output line matching `pattern`; rejects (with the log) if the process dies or time runs out. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, logFile?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const tail = () => (logFile ? readFileSync(logFile, "utf8").slice(-3000) : buffer.slice(-3000));
    const onData = (d: Buffer) => {
      buffer += d.toString();
      const line = buffer.split("\n").find((l) => pattern.test(l));
      if (line) {
        cleanup();
        resolve(line);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the process exited (${code}) before printing ${pattern}:\n${tail()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${tail()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", onExit);
  });
}

/** SIGTERM to the whole process group (npm, its shell, the launcher), as a service manager would. */
export function stopProcessGroup(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {}
      resolve(null);
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      resolve(child.exitCode);
    }
  });
}

/** The embedded PostgreSQL removes postmaster.pid when it has shut down cleanly. */
export async function waitForPostgresStopped(dataDir: string, timeoutMs = 20_000): Promise<boolean> {
  const { existsSync } = await import("node:fs");
  const pid = `${dataDir}/postgres/data/postmaster.pid`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!existsSync(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
