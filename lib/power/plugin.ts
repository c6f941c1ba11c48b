// Bakery-style power plugins: an executable an administrator configured, given JSON on
// stdin ({ action, host, params, secrets }) and answering JSON on stdout
// ({ "ok": true, "state": "on"|"off"|"unknown", "message": "…" }). Its stderr goes to the
// job log; a plugin that hangs is killed at the timeout.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { getProcessEnv } from "../env";
import { PowerError, type PowerAction, type PowerContext, type PowerDriver, type PowerResult } from "./types";

const DEFAULT_TIMEOUT_MS = 30_000;

export const pluginDriver: PowerDriver = {
  name: "plugin",
  canPowerOff: true,
  reportsState: true,
  run(action: PowerAction, ctx: PowerContext): Promise<PowerResult> {
    const command = String(ctx.params.command ?? "");
    if (!path.isAbsolute(command)) return Promise.reject(new PowerError("The plugin driver needs the absolute path of an executable (params.command)."));
    try {
      accessSync(command, constants.X_OK);
    } catch {
      return Promise.reject(new PowerError(`The power plugin ${command} does not exist or is not executable.`));
    }
    const timeoutMs = Number(ctx.params.timeoutSeconds ?? DEFAULT_TIMEOUT_MS / 1000) * 1000;
    return new Promise((resolve, reject) => {
      const child = spawn(command, [], { stdio: ["pipe", "pipe", "pipe"], env: { PATH: getProcessEnv().PATH ?? "/usr/bin:/bin" } as unknown as NodeJS.ProcessEnv });
      let stdout = "";
      let stderr = "";
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        finish(() => reject(new PowerError(`The power plugin did not answer within ${timeoutMs / 1000} s and was stopped.`)));
      }, timeoutMs);
      child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d).slice(-65536)));
      child.stderr.on("data", (d: Buffer) => {
        stderr = (stderr + d).slice(-65536);
      });
      child.on("error", (e) => finish(() => reject(new PowerError(`The power plugin could not be started: ${e.message}`))));
      child.on("close", (code) => {
        for (const line of stderr.split("\n").filter(Boolean)) ctx.log(`plugin: ${line}`);
        finish(() => {
          let answer: { ok?: boolean; state?: string; message?: string } | null = null;
          try {
            answer = JSON.parse(stdout);
          } catch {
            /* handled below */
          }
          if (code !== 0 || !answer || answer.ok !== true) {
            const why = answer?.message ?? (stderr.trim().split("\n").pop() || (code !== 0 ? `exit code ${code}` : "its output was not the expected JSON"));
            return reject(new PowerError(`The power plugin failed to ${action} ${ctx.host.name}: ${why}`));
          }
          const state = answer.state === "on" || answer.state === "off" ? answer.state : "unknown";
          resolve({ state, message: answer.message ?? `${action}: ok` });
        });
      });
      child.stdin.on("error", () => {});
      child.stdin.end(JSON.stringify({ action, host: ctx.host, params: ctx.params, secrets: ctx.secrets }));
    });
  },
};
