// Redfish (DMTF DSP0266) power: the ComputerSystem's PowerState, its Reset action, and the
// one-shot boot source override for PXE.
// params: { address: "https://bmc[:port]", systemId?: "1" (default: the first member of
// /redfish/v1/Systems), username, verifyCertificate?: boolean (default true) }; secrets: { password }.
// Basic authentication on every request rather than a session: no session to leak or expire
// between the worker's polls, and every BMC that speaks Redfish accepts it (DSP0266 §13.2).
// "off" is ForceOff, as IPMI's "chassis power off": the researcher's button and a cancelled run
// need the machine off now, and a GracefulShutdown an OS may ignore would leave it running.
// "cycle" is PowerCycle when the BMC offers it, else ForceRestart.
import http from "node:http";
import https from "node:https";
import { PowerError, type PowerAction, type PowerContext, type PowerDriver, type PowerResult } from "./types";

const DEFAULT_TIMEOUT_SECONDS = 15;

// TLS failures that mean "the certificate is not trusted" (Node's error codes).
const CERT_ERRORS = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

type Settings = { base: URL; username: string; password: string; verify: boolean; timeoutMs: number; systemId: string };

function settingsOf(ctx: PowerContext): Settings {
  const raw = String(ctx.params.address ?? "").trim();
  if (!raw) throw new PowerError("The Redfish driver needs the BMC's address (params.address), e.g. https://10.0.0.5.");
  let base: URL;
  try {
    base = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new PowerError(`“${raw}” is not a BMC address: write it as https://host or https://host:port.`);
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") throw new PowerError(`The BMC address must start with https:// (not ${base.protocol}//).`);
  const verify = ctx.params.verifyCertificate === undefined ? true : ctx.params.verifyCertificate === true || ctx.params.verifyCertificate === "true";
  const seconds = Number(ctx.params.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS);
  return {
    base,
    username: String(ctx.params.username ?? ""),
    password: ctx.secrets.password ?? "",
    verify,
    timeoutMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_TIMEOUT_SECONDS) * 1000,
    systemId: String(ctx.params.systemId ?? "").trim(),
  };
}

function where(s: Settings): string {
  return s.base.origin;
}

type Answer = { status: number; body: Record<string, unknown> | null };

/** One Redfish request; resolves with any HTTP answer, throws PowerError when there is none. */
function request(s: Settings, method: string, pathname: string, body?: unknown): Promise<Answer> {
  const url = new URL(pathname, s.base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { Accept: "application/json", "OData-Version": "4.0" };
  if (s.username || s.password) headers.Authorization = `Basic ${Buffer.from(`${s.username}:${s.password}`).toString("base64")}`;
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(payload));
  }
  const isHttps = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    // The choice not to verify is this host's alone: a fresh agent for the request, never a
    // process-wide NODE_TLS_REJECT_UNAUTHORIZED.
    const options: https.RequestOptions = { method, headers, timeout: s.timeoutMs, ...(isHttps ? { agent: new https.Agent({ rejectUnauthorized: s.verify, keepAlive: false }) } : {}) };
    const req = (isHttps ? https : http).request(url, options, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        if (text.length < 1_048_576) text += d;
      });
      res.on("end", () => {
        clearTimeout(deadline);
        let parsed: Record<string, unknown> | null = null;
        try {
          parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null;
        } catch {
          /* not JSON: status alone decides */
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on("error", (e) => fail(e as NodeJS.ErrnoException));
    });
    // The socket timeout only counts idle time; this caps the whole exchange.
    const deadline = setTimeout(() => req.destroy(Object.assign(new Error("timeout"), { code: "KILN_TIMEOUT" })), s.timeoutMs);
    const fail = (e: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      reject(networkError(s, e));
    };
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "KILN_TIMEOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => fail(e));
    req.end(payload);
  });
}

function networkError(s: Settings, e: NodeJS.ErrnoException): PowerError {
  const at = where(s);
  if (e.code === "KILN_TIMEOUT") return new PowerError(`The BMC at ${at} did not answer within ${s.timeoutMs / 1000} s.`);
  if (e.code && CERT_ERRORS.has(e.code)) {
    return new PowerError(
      `The BMC's certificate at ${at} is not trusted (${e.code}): untick “verify certificate” for this host, or install the BMC's CA certificate on the Kiln server (NODE_EXTRA_CA_CERTS).`,
    );
  }
  if (e.code === "ECONNREFUSED") return new PowerError(`Nothing answers at ${at}: check the BMC's address and port.`);
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return new PowerError(`The BMC's name in ${at} does not resolve.`);
  if (e.code === "EPROTO" || /wrong version number|SSL routines/i.test(e.message)) return new PowerError(`The BMC at ${at} does not speak HTTPS on that port: check the address (http:// or https://, and the port).`);
  return new PowerError(`The BMC at ${at} could not be reached: ${e.message}`);
}

/** The Redfish error's own words (its ExtendedInfo), if it sent any. */
function redfishMessage(body: Record<string, unknown> | null): string {
  const err = body?.error as { message?: string; "@Message.ExtendedInfo"?: { Message?: string }[] } | undefined;
  return err?.["@Message.ExtendedInfo"]?.[0]?.Message ?? err?.message ?? "";
}

function check(s: Settings, what: string, a: Answer): Record<string, unknown> {
  if (a.status >= 200 && a.status < 300) return a.body ?? {};
  const at = where(s);
  if (a.status === 401) return fail(`The BMC at ${at} refused the login: check the username and password.`);
  if (a.status === 403) return fail(`The BMC at ${at} accepted the login but does not let user “${s.username}” ${what}: give the account the Operator or Administrator role.`);
  if (a.status === 404) return fail(`The BMC at ${at} has no ${what === "read the system" && s.systemId ? `system “${s.systemId}”` : "such resource"} (${what}): check the system id.`);
  const why = redfishMessage(a.body);
  return fail(`The BMC at ${at} could not ${what}: HTTP ${a.status}${why ? ` — ${why}` : ""}.`);
}

function fail(message: string): never {
  throw new PowerError(message);
}

async function systemPath(s: Settings): Promise<string> {
  if (s.systemId) return s.systemId.startsWith("/redfish/") ? s.systemId : `/redfish/v1/Systems/${encodeURIComponent(s.systemId)}`;
  const list = check(s, "list its systems", await request(s, "GET", "/redfish/v1/Systems"));
  const first = (list.Members as { "@odata.id"?: string }[] | undefined)?.[0]?.["@odata.id"];
  if (!first) fail(`The BMC at ${where(s)} lists no computer systems under /redfish/v1/Systems.`);
  return first;
}

type System = { path: string; powerState: string; resetTarget: string; resetTypes: string[] | null };

async function readSystem(s: Settings): Promise<System> {
  const path = await systemPath(s);
  const body = check(s, "read the system", await request(s, "GET", path));
  const reset = (body.Actions as Record<string, { target?: string; "ResetType@Redfish.AllowableValues"?: string[] }> | undefined)?.["#ComputerSystem.Reset"];
  return {
    path,
    powerState: String(body.PowerState ?? ""),
    resetTarget: reset?.target ?? `${path.replace(/\/$/, "")}/Actions/ComputerSystem.Reset`,
    resetTypes: reset?.["ResetType@Redfish.AllowableValues"] ?? null,
  };
}

/** DSP2046 PowerState → Kiln's state; the transitional states are reported as they are, as unknown. */
export function redfishPowerState(powerState: string): "on" | "off" | "unknown" {
  if (powerState === "On") return "on";
  if (powerState === "Off") return "off";
  return "unknown";
}

async function reset(s: Settings, sys: System, type: string, ctx: PowerContext): Promise<void> {
  if (sys.resetTypes && !sys.resetTypes.includes(type)) fail(`The BMC at ${where(s)} does not offer the reset “${type}” (it offers ${sys.resetTypes.join(", ") || "none"}).`);
  check(s, `reset the system (${type})`, await request(s, "POST", sys.resetTarget, { ResetType: type }));
  ctx.log(`redfish: ${type} on ${ctx.host.name} (${sys.resetTarget})`);
}

export const redfishDriver: PowerDriver = {
  name: "redfish",
  canPowerOff: true,
  reportsState: true,
  networkBoot: "override",
  async run(action: PowerAction, ctx: PowerContext): Promise<PowerResult> {
    const s = settingsOf(ctx);
    const sys = await readSystem(s);
    const state = redfishPowerState(sys.powerState);
    if (action === "status") return { state, message: `PowerState is ${sys.powerState || "not reported"}` };
    if (action !== "off" && ctx.bootFromNetwork) {
      check(s, "set the next boot to the network", await request(s, "PATCH", sys.path, { Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" } }));
      ctx.log(`redfish: next boot of ${ctx.host.name} from the network (Pxe, once)`);
    }
    if (action === "off") {
      if (state === "off") return { state: "off", message: "The machine was already off." };
      await reset(s, sys, "ForceOff", ctx);
      return { state: "off", message: "Switched off (ForceOff)." };
    }
    if (action === "on" || state === "off") {
      if (state === "on") return { state: "on", message: "The machine was already on." };
      await reset(s, sys, "On", ctx);
      return { state: "on", message: action === "cycle" ? "The machine was off; switched it on." : "Switched on." };
    }
    const type = sys.resetTypes?.includes("PowerCycle") ? "PowerCycle" : "ForceRestart";
    await reset(s, sys, type, ctx);
    return { state: "on", message: `Restarted (${type}).` };
  },
};
