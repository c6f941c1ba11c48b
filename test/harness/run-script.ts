// Runs one of Kiln's scripts as a person or automation would (`npx tsx scripts/…`) in a
// child process, pointed at a test database through DATABASE_URL.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getProcessEnv } from "@/lib/env";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export type ScriptRun = { code: number | null; stdout: string; stderr: string };

export function runScript(script: string, args: string[], databaseUrl: string): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", script, ...args], {
      cwd: root,
      env: { ...getProcessEnv(), DATABASE_URL: databaseUrl, LOG_LEVEL: "silent" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** What the script itself printed on stderr (npm may add its own warnings about the environment). */
export function ownStderr(run: ScriptRun): string {
  return run.stderr
    .split("\n")
    .filter((l) => l && !l.startsWith("npm warn"))
    .join("\n");
}
