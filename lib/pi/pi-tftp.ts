// What the boot server's TFTP answers a Raspberry Pi (docs/raspberry-pi.md). Every request is
// decided here, at request time, from the database:
// - a known serial whose host has a live run naming an image version: that version's boot
//   partition files, and `cmdline.txt` rendered for this machine (boot/templates/pi-cmdline.ts);
// - a known serial with no run: file-not-found for everything, which makes the firmware boot
//   its SD card (the Pi's "local boot");
// - an unknown serial: recorded as a new arm64 host with its serial (as an unknown MAC is), then
//   file-not-found;
// - anything that is not `<serial>/<file>`, or tries to leave it: an error packet.
// Unauthenticated by nature, so it reveals nothing a Pi with that serial would not get.
import fs from "node:fs/promises";
import { recordDeploymentBoot, touchHostSeen } from "@/db/queries/boot";
import { findHostByPiSerial, insertDiscoveredPi } from "@/db/queries/pi";
import { hitRateLimit } from "@/db/queries/auth";
import { getImageVersionRow } from "@/db/queries/images";
import { insertHostEvents } from "@/db/queries/hosts";
import type { DeploymentRow, HostRow } from "@/db/schema";
import { PI_CMDLINE_TEMPLATE } from "@/boot/templates/pi-cmdline";
import type { Db } from "../db";
import { DISCOVERY_LIMIT_PER_IP, DISCOVERY_WINDOW_SECONDS } from "../boot/boot-service";
import { imageContextOf, loadBootContext } from "../templates/deployment-rendering";
import { deploymentToken } from "../deployments/deployment-token";
import { noteBootRequest } from "../deployments/agent";
import { loadBootDecision } from "../deployments/next-boot";
import { getLogger } from "../log";
import { renderInPool } from "../templates/render-pool";
import { ERR } from "../tftp/packet";
import { bufferFile, tftpError, type TftpAnswer, type TftpPeer, type TftpResolve } from "../tftp/server";
import { getBootFiles } from "./boot-files";
import { parsePiPath } from "./paths";

const NOT_FOUND = tftpError(ERR.NOT_FOUND, "File not found");
const log = getLogger("pi-tftp");

/** The run a Pi boots: a live one that names an image version (pending or running, token unexpired). */
async function activeImageRun(db: Db, host: HostRow, now: Date): Promise<DeploymentRow | null> {
  const { active } = await loadBootDecision(db, host.id);
  if (!active || !active.imageId || !active.imageVersion || active.tokenExpiresAt.getTime() <= now.getTime()) return null;
  return active;
}

/** cmdline.txt for this machine and run, one line. Throws a TemplateError when it does not render. */
export async function renderPiCmdline(db: Db, host: HostRow, run: DeploymentRow): Promise<string> {
  const token = deploymentToken(run.id);
  const image = await imageContextOf(db, run, token);
  const context = await loadBootContext(db, { host, mac: null, deployment: { id: run.id, action: run.action, vars: run.vars, postInstall: null }, token, image });
  const text = await renderInPool(PI_CMDLINE_TEMPLATE, context);
  return `${text.replace(/\s+/g, " ").trim()}\n`;
}

export async function discoverPi(db: Db, p: { serial: string; sourceIp: string | null; now: Date; siteId: string | null }): Promise<void> {
  const { count } = await hitRateLimit(db, { key: `discover:ip:${p.sourceIp ?? "unknown"}`, windowSeconds: DISCOVERY_WINDOW_SECONDS });
  if (count > DISCOVERY_LIMIT_PER_IP) return;
  const host = await insertDiscoveredPi(db, { serial: p.serial, sourceIp: p.sourceIp, at: p.now, siteId: p.siteId });
  if (host) {
    await insertHostEvents(db, [{ hostId: host.id, kind: "discovered", toState: "new", message: `first TFTP boot of Raspberry Pi serial ${p.serial} from ${p.sourceIp ?? "an unknown address"}`, at: p.now }]);
    log.info({ serial: p.serial, hostId: host.id }, "new Raspberry Pi enlisted");
  }
}

export function createPiTftpResolver(p: { db: Db; siteId: () => string | null; now?: () => Date }): TftpResolve {
  const now = p.now ?? (() => new Date());
  return async (filename: string, peer: TftpPeer): Promise<TftpAnswer> => {
    const parsed = parsePiPath(filename);
    if (!parsed.ok) return parsed.reason === "refused" ? tftpError(ERR.ACCESS, parsed.message) : NOT_FOUND;
    const at = now();
    const host = await findHostByPiSerial(p.db, parsed.serial);
    if (!host) {
      await discoverPi(p.db, { serial: parsed.serial, sourceIp: peer.address, now: at, siteId: p.siteId() });
      return NOT_FOUND;
    }
    const run = await activeImageRun(p.db, host, at);
    // No run: the firmware, told not-found, boots its SD card.
    if (!run) return NOT_FOUND;
    if (parsed.file.toLowerCase() === "cmdline.txt") {
      const text = await renderPiCmdline(p.db, host, run).catch((e: Error) => {
        log.warn({ hostId: host.id, deploymentId: run.id, err: e.message }, "cmdline.txt did not render");
        return null;
      });
      if (text === null) return tftpError(ERR.NOT_DEFINED, "cmdline.txt did not render; see the host page");
      // cmdline.txt is fetched once per boot: the run's boot and the host's last seen.
      await touchHostSeen(p.db, { hostId: host.id, at, sourceIp: peer.address });
      await recordDeploymentBoot(p.db, run.id, at);
      await noteBootRequest(p.db, run.id, at);
      return { kind: "file", file: bufferFile(Buffer.from(text)) };
    }
    const version = await getImageVersionRow(p.db, { imageId: run.imageId!, version: run.imageVersion! });
    if (!version || version.state !== "ready") return NOT_FOUND;
    const files = await getBootFiles(version);
    if (!files.ok) {
      log.warn({ hostId: host.id, imageId: version.imageId, version: version.version, reason: files.reason }, "no Pi boot files for this version");
      return NOT_FOUND;
    }
    const file = files.files.get(parsed.file.toLowerCase());
    if (!file) return NOT_FOUND;
    // Boot files are a few MB at most (a kernel): read whole, one open per transfer.
    return { kind: "file", file: bufferFile(await fs.readFile(file)) };
  };
}
