// IPMI over LAN with Debian's ipmitool. The password goes through the environment (-E),
// never the command line, where any local user could read it in the process list.
import { execFile } from "node:child_process";
import { getProcessEnv } from "../env";
import { PowerError, type PowerAction, type PowerContext, type PowerDriver, type PowerResult } from "./types";

const TIMEOUT_MS = 20_000;

function ipmitool(ctx: PowerContext, args: string[]): Promise<string> {
  const address = String(ctx.params.address ?? "");
  if (!address) throw new PowerError("The IPMI driver needs the BMC's address (params.address).");
  const base = [
    "-I", "lanplus",
    "-H", address,
    "-p", String(ctx.params.port ?? 623),
    "-U", String(ctx.params.username ?? "ADMIN"),
    "-E",
    // Cipher suite 3 (the common default); without it ipmitool probes and loses seconds per call.
    "-C", String(ctx.params.cipherSuite ?? 3),
    // Seconds per try and tries: a healthy BMC answers at once; a dead one fails in about N × R s.
    "-N", String(ctx.params.timeoutSeconds ?? 2), "-R", String(ctx.params.retries ?? 2),
  ];
  return new Promise((resolve, reject) => {
    execFile("ipmitool", [...base, ...args], { timeout: TIMEOUT_MS, env: { PATH: getProcessEnv().PATH ?? "/usr/bin:/bin", IPMI_PASSWORD: ctx.secrets.password ?? "" } as unknown as NodeJS.ProcessEnv }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`.trim();
      if (out) ctx.log(`ipmitool ${args.join(" ")}: ${out}`);
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return reject(new PowerError("ipmitool is not installed on the Kiln server (Debian package ipmitool)."));
      if (err.killed) return reject(new PowerError(`The BMC at ${address} did not answer within ${TIMEOUT_MS / 1000} s.`));
      if (/Unable to establish|RAKP|password|Unauthorized/i.test(out)) return reject(new PowerError(`The BMC at ${address} refused the login: check the username and password.`));
      reject(new PowerError(`ipmitool failed for ${address}: ${out.split("\n")[0] || err.message}`));
    });
  });
}

export const ipmiDriver: PowerDriver = {
  name: "ipmi",
  canPowerOff: true,
  reportsState: true,
  networkBoot: "override",
  async run(action: PowerAction, ctx: PowerContext): Promise<PowerResult> {
    if (action !== "status" && action !== "off" && ctx.bootFromNetwork) await ipmitool(ctx, ["chassis", "bootdev", "pxe"]);
    if (action === "status") {
      const out = await ipmitool(ctx, ["chassis", "power", "status"]);
      const state = /is on/i.test(out) ? "on" : /is off/i.test(out) ? "off" : "unknown";
      return { state, message: out.trim() };
    }
    if (action === "cycle") {
      // "cycle" fails on a machine that is off; switch it on instead.
      const status = await ipmitool(ctx, ["chassis", "power", "status"]);
      if (/is off/i.test(status)) {
        await ipmitool(ctx, ["chassis", "power", "on"]);
        return { state: "on", message: "The machine was off; switched it on." };
      }
    }
    const out = await ipmitool(ctx, ["chassis", "power", action]);
    return { state: action === "off" ? "off" : "on", message: out.trim() };
  },
};
