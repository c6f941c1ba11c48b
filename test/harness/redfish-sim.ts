// A small Redfish service for tests: an EMULATOR written here from the DMTF Redfish schema
// (DSP0266 protocol, DSP8010 schema: ServiceRoot, ComputerSystemCollection, ComputerSystem with
// PowerState, Boot and Actions/#ComputerSystem.Reset), because no real Redfish service can run
// here: none is packaged for Debian or npm, and there is no BMC. It speaks HTTPS with a
// self-signed certificate made by `openssl req -x509` at start, checks Basic authentication,
// keeps one system's power state and boot override, and records every request so tests can
// assert what a real BMC would have been told. It listens on 127.0.0.1, port chosen by the OS.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export type RedfishRequest = { method: string; path: string; body: unknown };
export type RedfishSimOptions = {
  username?: string;
  password?: string;
  systemId?: string;
  powerState?: "On" | "Off";
  /** ResetType@Redfish.AllowableValues; PowerCycle is left out by default so ForceRestart is used. */
  resetTypes?: string[];
  /** Answer every request after this many ms (0: at once); a test of a BMC that hangs. */
  delayMs?: number;
};
export type RedfishSim = {
  port: number;
  address: string;
  username: string;
  password: string;
  systemId: string;
  requests: () => RedfishRequest[];
  /** Reset types POSTed to the Reset action, in order. */
  resets: () => string[];
  powerState: () => string;
  setPowerState: (s: "On" | "Off") => void;
  boot: () => { BootSourceOverrideTarget: string; BootSourceOverrideEnabled: string };
  stop: () => Promise<void>;
};

const ALL_RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "ForceOn", "PushPowerButton", "PowerCycle"];
const BOOT_TARGETS = ["None", "Pxe", "Floppy", "Cd", "Usb", "Hdd", "BiosSetup", "Utilities", "Diags", "UefiShell", "UefiTarget", "SDCard", "UefiHttp", "RemoteDrive", "UefiBootNext"];
const BOOT_ENABLED = ["Disabled", "Once", "Continuous"];

async function selfSignedCert(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-redfish-"));
  try {
    await exec("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
      "-subj", "/CN=kiln-redfish-emulator",
      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
    ]);
    return { key: await fs.readFile(path.join(dir, "key.pem")), cert: await fs.readFile(path.join(dir, "cert.pem")) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function redfishError(res: ServerResponse, status: number, messageId: string, message: string): void {
  send(res, status, { error: { code: `Base.1.8.${messageId}`, message, "@Message.ExtendedInfo": [{ MessageId: `Base.1.8.${messageId}`, Message: message }] } });
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "OData-Version": "4.0", ...(status === 401 ? { "WWW-Authenticate": 'Basic realm="Redfish"' } : {}) });
  res.end(text);
}

export async function startRedfishSim(options: RedfishSimOptions = {}): Promise<RedfishSim> {
  const username = options.username ?? "admin";
  const password = options.password ?? "rf-" + Math.random().toString(36).slice(2, 10);
  const systemId = options.systemId ?? "437XR1138R2";
  const resetTypes = options.resetTypes ?? ALL_RESET_TYPES.filter((t) => t !== "PowerCycle");
  let powerState: string = options.powerState ?? "Off";
  const boot = { BootSourceOverrideTarget: "None", BootSourceOverrideEnabled: "Disabled" };
  const log: RedfishRequest[] = [];
  const systemPath = `/redfish/v1/Systems/${systemId}`;
  const expectedAuth = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

  const system = () => ({
    "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
    "@odata.id": systemPath,
    Id: systemId,
    Name: "Kiln test system",
    SystemType: "Physical",
    PowerState: powerState,
    Status: { State: "Enabled", Health: "OK" },
    Boot: {
      ...boot,
      BootSourceOverrideMode: "UEFI",
      "BootSourceOverrideTarget@Redfish.AllowableValues": BOOT_TARGETS,
    },
    Actions: {
      "#ComputerSystem.Reset": { target: `${systemPath}/Actions/ComputerSystem.Reset`, "ResetType@Redfish.AllowableValues": resetTypes },
    },
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = "";
    for await (const chunk of req) text += chunk;
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return redfishError(res, 400, "MalformedJSON", "The request body submitted was malformed JSON and could not be parsed by the receiving service.");
      }
    }
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const p = url.pathname.replace(/\/$/, "") || "/";
    log.push({ method: req.method ?? "", path: p, body });
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    // The service root is readable without authentication (DSP0266 §13.3.1); nothing else is.
    if (p === "/redfish/v1" && req.method === "GET") {
      return send(res, 200, { "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot", "@odata.id": "/redfish/v1", Id: "RootService", Name: "Root Service", RedfishVersion: "1.15.0", Systems: { "@odata.id": "/redfish/v1/Systems" } });
    }
    if (req.headers.authorization !== expectedAuth) return redfishError(res, 401, "NoValidSession", "There is no valid session established with the implementation.");
    if (p === "/redfish/v1/Systems" && req.method === "GET") {
      return send(res, 200, { "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection", "@odata.id": "/redfish/v1/Systems", Name: "Computer System Collection", "Members@odata.count": 1, Members: [{ "@odata.id": systemPath }] });
    }
    if (p === systemPath && req.method === "GET") return send(res, 200, system());
    if (p === systemPath && req.method === "PATCH") {
      const b = (body as { Boot?: Record<string, unknown> } | undefined)?.Boot;
      if (!b) return redfishError(res, 400, "PropertyMissing", "The property Boot is a required property and must be included in the request.");
      const target = b.BootSourceOverrideTarget;
      const enabled = b.BootSourceOverrideEnabled;
      if (target !== undefined && !BOOT_TARGETS.includes(String(target))) return redfishError(res, 400, "PropertyValueNotInList", `The value ${String(target)} for the property BootSourceOverrideTarget is not in the list of acceptable values.`);
      if (enabled !== undefined && !BOOT_ENABLED.includes(String(enabled))) return redfishError(res, 400, "PropertyValueNotInList", `The value ${String(enabled)} for the property BootSourceOverrideEnabled is not in the list of acceptable values.`);
      if (target !== undefined) boot.BootSourceOverrideTarget = String(target);
      if (enabled !== undefined) boot.BootSourceOverrideEnabled = String(enabled);
      return send(res, 200, system());
    }
    if (p === `${systemPath}/Actions/ComputerSystem.Reset` && req.method === "POST") {
      const type = String((body as { ResetType?: unknown } | undefined)?.ResetType ?? "");
      if (!resetTypes.includes(type)) return redfishError(res, 400, "ActionParameterNotSupported", `The parameter ResetType for the action ComputerSystem.Reset is not supported on the target resource.`);
      if (type === "ForceOff" || type === "GracefulShutdown") powerState = "Off";
      else if (type === "On" || type === "ForceOn") powerState = "On";
      else if (type === "PushPowerButton") powerState = powerState === "On" ? "Off" : "On";
      else if (type === "Nmi") {
        /* a diagnostic interrupt: the power state stays */
      } else if (powerState === "On" || type === "PowerCycle") {
        powerState = "On";
        // A restart consumes a one-shot override, as a real machine's next boot does.
        if (boot.BootSourceOverrideEnabled === "Once") Object.assign(boot, { BootSourceOverrideEnabled: "Disabled" });
      }
      return send(res, 204);
    }
    if ([systemPath, "/redfish/v1/Systems"].includes(p)) return redfishError(res, 405, "ActionNotSupported", `${req.method} is not allowed on ${p}.`);
    return redfishError(res, 404, "ResourceMissingAtURI", `The resource at the URI ${p} was not found.`);
  }

  const server = https.createServer(await selfSignedCert(), (req, res) => {
    handle(req, res).catch((e) => redfishError(res, 500, "InternalError", (e as Error).message));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    address: `https://127.0.0.1:${port}`,
    username,
    password,
    systemId,
    requests: () => [...log],
    resets: () => log.filter((r) => r.path.endsWith("/Actions/ComputerSystem.Reset") && r.method === "POST").map((r) => String((r.body as { ResetType?: string })?.ResetType)),
    powerState: () => powerState,
    setPowerState: (s) => {
      powerState = s;
    },
    boot: () => ({ ...boot }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
