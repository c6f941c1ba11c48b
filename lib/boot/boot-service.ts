// What Kiln answers a machine that network-boots. Unauthenticated by nature, so it
// reveals nothing: an unknown MAC gets the same local-boot answer as a known idle host (with
// commissioning on discovery, its own new host's commissioning run instead: docs/commissioning.md),
// and per-deployment files answer 404 for every bad token alike.
import { upsertHostAddresses } from "@/db/queries/addresses";
import { findHostByMac, getDeploymentByTokenHash, getDeploymentRendering, insertDiscoveredHost, recordDeploymentBoot, storeDeploymentRendering, touchHostSeen } from "@/db/queries/boot";
import type { DeploymentRow, HostRow } from "@/db/schema";
import { errorScript, haltScript, localBootScript } from "@/boot/scripts";
import { TemplateError } from "@/boot/template";
import { renderDeploymentTemplates } from "../templates/deployment-rendering";
import type { Db, DbOrTx } from "../db";
import { hitRateLimit } from "@/db/queries/auth";
import { normalizeMac } from "../validation/mac";
import { bootAddressRows } from "../hosts/addresses";
import { hashSecret } from "../auth/secrets";
import { getLogger } from "../log";
import { deploymentToken } from "../deployments/deployment-token";
import { insertHostEvents } from "@/db/queries/hosts";
import { failFromBoot, noteBootRequest, noteFileFetched, reportFinished } from "../deployments/agent";
import { loadBootDecision } from "../deployments/next-boot";
import { siteBootUrlOf } from "../sites/sites";
import { commissionOnArrival } from "../deployments/commission";
import { archOfBuildArch } from "../hosts/arch";
import type { HostArchName } from "../validation/inventory";
import { getLiveDisklessRoot } from "@/db/queries/diskless";
import { getDeploymentRow } from "@/db/queries/deployments";
import { disklessNbdAddress, disklessWaitScript, withDisklessPreamble } from "../diskless/answer";

export type BootAnswer = { status: number; body: string; contentType: string };

const IPXE = "text/plain; charset=utf-8";
const SEEN_WRITE_INTERVAL_MS = 60_000;
export const DISCOVERY_LIMIT_PER_IP = 100;
export const DISCOVERY_WINDOW_SECONDS = 600;

// Answers given as they are to many machines: built once, never changed by a caller.
const LOCAL_BOOT_ANSWER: BootAnswer = Object.freeze({ status: 200, contentType: IPXE, body: localBootScript() });

/** A hostname hint is only ever shown to admins; keep it short and printable. */
export function cleanHint(hint: string | null | undefined): string | null {
  const h = hint?.trim().replace(/[^A-Za-z0-9._-]/g, "").slice(0, 63);
  return h ? h : null;
}

/** What an unknown, idle or unreadable machine is answered: boot the local disk. */
export function localBootAnswer(): BootAnswer {
  return LOCAL_BOOT_ANSWER;
}

/** The 400 for a path that is not a MAC address. */
export function badMacAnswer(raw: string): BootAnswer {
  return { status: 400, contentType: IPXE, body: errorScript(`“${raw.slice(0, 40)}” is not a MAC address; chain to /boot/\${net0/mac:hexhyp}`) };
}

/** Last seen is written at most once a minute per host, or at once when the machine asks from another address. */
export function isSeenWriteDue(host: { lastSeenAt: Date | null; sourceIp: string | null }, sourceIp: string | null, nowMs: number): boolean {
  return !host.lastSeenAt || nowMs - host.lastSeenAt.getTime() > SEEN_WRITE_INTERVAL_MS || host.sourceIp !== sourceIp;
}

/**
 * What a known host's MAC is answered, read from the database once and free of per-request
 * writes, so the boot server can keep it in memory (lib/boot-server/answers.ts) and the
 * uncached path below answers the same: a fixed answer (local boot, halt), the active run's
 * stored text with its token put in (valid until the token expires, then local boot), or a
 * run whose system template failed to render (the run fails; the machine boots its disk).
 */
export type HostBootPlan =
  | { kind: "fixed"; answer: BootAnswer }
  | { kind: "run"; deploymentId: string; tokenExpiresAtMs: number; answer: BootAnswer }
  | { kind: "broken"; deploymentId: string; reason: string; answer: BootAnswer };

export async function loadHostBootPlan(db: Db, p: { host: HostRow; mac: string; now: Date }): Promise<HostBootPlan> {
  const { host, mac } = p;
  const { next, active: deployment } = await loadBootDecision(db, host.id);
  // A live diskless root is booted at every network boot (docs/diskless.md): by its run while
  // that is active (with its token, so the run hears how it went), afterwards without a token.
  const root = await getLiveDisklessRoot(db, host.id);
  if (root && !(deployment && deployment.id !== root.deploymentId && next.kind === "run" && deployment.tokenExpiresAt.getTime() > p.now.getTime())) {
    const nbd = disklessNbdAddress(root);
    if (!nbd) return { kind: "fixed", answer: { status: 200, contentType: IPXE, body: disklessWaitScript(`${await siteBootUrlOf(db, host)}/boot/${mac.replace(/:/g, "-")}`) } };
    const own = deployment && deployment.id === root.deploymentId && next.kind === "run" && deployment.tokenExpiresAt.getTime() > p.now.getTime() ? deployment : null;
    const row = own ?? (root.deploymentId ? await getDeploymentRow(db, root.deploymentId) : undefined);
    if (row) {
      try {
        const body = withDisklessPreamble(await storedDeploymentText(db, { host, mac, deployment: row, which: "system", token: own ? deploymentToken(row.id) : "" }), nbd);
        const answer = Object.freeze({ status: 200, contentType: IPXE, body });
        if (own) return { kind: "run", deploymentId: own.id, tokenExpiresAtMs: own.tokenExpiresAt.getTime(), answer };
        return { kind: "fixed", answer };
      } catch (e) {
        getLogger("boot").warn({ hostId: host.id, rootId: root.id, err: (e as Error).message }, "diskless boot script could not be rendered; answering local boot");
      }
    }
  }
  if (!deployment || deployment.tokenExpiresAt.getTime() <= p.now.getTime() || next.kind !== "run") {
    // A disk whose last write failed or was cancelled part-way is never booted (lib/deployments/next-boot.ts).
    if (next.kind === "halt") return { kind: "fixed", answer: Object.freeze({ status: 200, contentType: IPXE, body: haltScript({ reason: next.reason, recheckUrl: `${await siteBootUrlOf(db, host)}/boot/${mac.replace(/:/g, "-")}` }) }) };
    return { kind: "fixed", answer: LOCAL_BOOT_ANSWER };
  }
  try {
    // One-shot mark: the same run is answered until it reports done, so a reboot half-way continues it.
    const body = await storedDeploymentText(db, { host, mac, deployment, which: "system", token: deploymentToken(deployment.id) });
    return { kind: "run", deploymentId: deployment.id, tokenExpiresAtMs: deployment.tokenExpiresAt.getTime(), answer: Object.freeze({ status: 200, contentType: IPXE, body }) };
  } catch (e) {
    const reason = e instanceof TemplateError ? e.message : "the boot template could not be rendered";
    getLogger("boot").warn({ hostId: host.id, deploymentId: deployment.id, reason }, "boot template failed; answering local boot");
    return { kind: "broken", deploymentId: deployment.id, reason, answer: { status: 200, contentType: IPXE, body: errorScript(`the boot template of ${host.name} failed to render (see the host page); booting from disk`) } };
  }
}

/** A run whose system template failed to render when its machine asked: counted, then failed. */
export async function recordBrokenDeployment(db: Db, plan: { deploymentId: string; reason: string }, at: Date): Promise<void> {
  await recordDeploymentBoot(db, plan.deploymentId, at);
  await failFromBoot(db, plan.deploymentId, `the system template failed to render: ${plan.reason}`, at);
}

/**
 * The uncached answer: every read and write done for this one request. The boot server answers
 * the same from memory and batches the writes (lib/boot-server/answers.ts).
 */
export async function answerBootRequest(db: Db, req: { mac: string; hostnameHint?: string | null; sourceIp: string | null; arch?: string | null; now?: Date }): Promise<BootAnswer> {
  const now = req.now ?? new Date();
  const mac = normalizeMac(req.mac);
  if (!mac) return badMacAnswer(req.mac);

  let found = await findHostByMac(db, mac);
  if (!found) {
    // Recorded (and, while commissioning on discovery is on, given its commissioning run), then
    // answered as the host it now is: a new machine boots the ramdisk at its first boot.
    if (!(await discoverHost(db, { mac, hint: cleanHint(req.hostnameHint), sourceIp: req.sourceIp, arch: archOfBuildArch(req.arch), now }))) return LOCAL_BOOT_ANSWER;
    found = await findHostByMac(db, mac);
    if (!found) return LOCAL_BOOT_ANSWER;
  } else {
    // Recorded before its run was made (a crash in between, or commissioning was off then).
    // Known hosts past "new" cost nothing here: commissionOnArrival looks at the row first.
    await commissionOnArrival(db, found.host, now);
  }
  const { host } = found;
  if (isSeenWriteDue(host, req.sourceIp, now.getTime())) {
    await touchHostSeen(db, { hostId: host.id, at: now, sourceIp: req.sourceIp });
    await upsertHostAddresses(db, bootAddressRows([{ hostId: host.id, at: now, sourceIp: req.sourceIp, mac }]));
  }
  const plan = await loadHostBootPlan(db, { host, mac, now });
  if (plan.kind === "run") {
    await recordDeploymentBoot(db, plan.deploymentId, now);
    await noteBootRequest(db, plan.deploymentId, now);
  }
  else if (plan.kind === "broken") await recordBrokenDeployment(db, plan, now);
  return plan.answer;
}

/**
 * Records an unknown MAC as a new host (state new), within the per-source flood limit, and
 * creates its commissioning run while KILN_COMMISSION_ON_DISCOVERY is on (docs/commissioning.md).
 * True when the MAC is now a host's (recorded here or by a request that raced this one).
 */
export async function discoverHost(db: Db, p: { mac: string; hint: string | null; sourceIp: string | null; now: Date; siteId?: string | null; arch?: HostArchName | null }): Promise<boolean> {
  // A flood of random MACs from one source must not fill the host table.
  const { count } = await hitRateLimit(db, { key: `discover:ip:${p.sourceIp ?? "unknown"}`, windowSeconds: DISCOVERY_WINDOW_SECONDS });
  if (count > DISCOVERY_LIMIT_PER_IP) {
    if (count === DISCOVERY_LIMIT_PER_IP + 1) getLogger("boot").warn({ sourceIp: p.sourceIp }, "discovery rate limit reached; unknown MACs from this source are not recorded for a while");
    return false;
  }
  // Its architecture as its iPXE said (`${buildarch}` in the chain script's URL); x86_64 when it did not.
  const host = await insertDiscoveredHost(db, { name: `new-${p.mac.replace(/:/g, "")}`, mac: p.mac, hostnameHint: p.hint, sourceIp: p.sourceIp, at: p.now, siteId: p.siteId ?? null, arch: p.arch ?? null });
  if (host) {
    await insertHostEvents(db, [{ hostId: host.id, kind: "discovered", toState: "new", message: `first network boot from ${p.sourceIp ?? "an unknown address"}${p.hint ? ` (says it is ${p.hint})` : ""}`, at: p.now }]);
    // A crash before the run exists is mended at the machine's next boot (isArrivalCommissionDue).
    await commissionOnArrival(db, host, p.now);
  }
  return true;
}

/**
 * The text a machine gets for a run: rendered once (when the run was created, or for a run
 * from before that, at its first request here), stored without the token, and served with the
 * token put in. So a pending run costs no render per unauthenticated boot request, and what
 * the machine receives does not change under it.
 */
async function storedDeploymentText(db: DbOrTx, p: { host: HostRow; mac: string; deployment: DeploymentRow; which: "system" | "unattended"; token: string }): Promise<string> {
  let row: Pick<DeploymentRow, "renderedSystem" | "renderedUnattended" | "tokenPlaceholder"> = p.deployment;
  if (!row.tokenPlaceholder) {
    const d = p.deployment;
    const rendering = await renderDeploymentTemplates(db, {
      host: p.host,
      mac: p.mac,
      run: { ...d, postInstall: d.options.postInstall ?? null },
      system: { id: d.systemTemplateId, version: d.systemTemplateVersion },
      unattended: d.unattendedTemplateId ? { id: d.unattendedTemplateId, version: d.unattendedTemplateVersion } : null,
    });
    // Two first requests at once: the first stored text wins, and both serve it.
    row = (await storeDeploymentRendering(db, d.id, rendering)) ?? (await getDeploymentRendering(db, d.id)) ?? rendering;
  }
  const text = p.which === "system" ? row.renderedSystem : row.renderedUnattended;
  if (text === null || !row.tokenPlaceholder) throw new TemplateError(`this deployment has no ${p.which} template`, 1, 1, "render");
  return text.split(row.tokenPlaceholder).join(p.token);
}

const FILES = ["unattended", "user-data", "meta-data"] as const;
export type DeploymentFile = (typeof FILES)[number];

/** Resolves a per-deployment request: the right host, a live deployment, the right token; else null (→ 404). */
async function resolveDeployment(db: DbOrTx, p: { mac: string; token: string; now: Date }) {
  const mac = normalizeMac(p.mac);
  if (!mac || !/^[A-Za-z0-9_-]{20,100}$/.test(p.token)) return null;
  const deployment = await getDeploymentByTokenHash(db, hashSecret(p.token));
  if (!deployment || (deployment.state !== "pending" && deployment.state !== "running") || deployment.tokenExpiresAt.getTime() <= p.now.getTime()) return null;
  const found = await findHostByMac(db, mac);
  if (!found || found.host.id !== deployment.hostId) return null;
  return { deployment, host: found.host, mac };
}

export async function serveDeploymentFile(db: Db, p: { mac: string; token: string; file: string; now?: Date }): Promise<BootAnswer> {
  const now = p.now ?? new Date();
  const notFound: BootAnswer = { status: 404, contentType: "text/plain; charset=utf-8", body: "Not found\n" };
  if (!(FILES as readonly string[]).includes(p.file)) return notFound;
  const resolved = await resolveDeployment(db, { ...p, now });
  if (!resolved) return notFound;
  if (p.file === "meta-data") {
    // cloud-init NoCloud wants meta-data beside user-data; the instance id changes per run.
    return { status: 200, contentType: "text/plain; charset=utf-8", body: `instance-id: kiln-${resolved.deployment.id}\nlocal-hostname: ${resolved.host.name}\n` };
  }
  try {
    const body = await storedDeploymentText(db, { host: resolved.host, mac: resolved.mac, deployment: resolved.deployment, which: "unattended", token: p.token });
    // On the timeline: the installer got as far as asking for its answers.
    await insertHostEvents(db, [{ hostId: resolved.host.id, kind: "fetched", at: now, message: `the machine fetched ${p.file} of deployment ${resolved.deployment.id}` }]);
    await noteFileFetched(db, resolved.deployment.id, p.file, now);
    return { status: 200, contentType: "text/plain; charset=utf-8", body };
  } catch (e) {
    const reason = e instanceof TemplateError ? e.message : "render failed";
    await failFromBoot(db, resolved.deployment.id, `the unattended template failed to render: ${reason}`, now);
    return { status: 500, contentType: "text/plain; charset=utf-8", body: "# Kiln: the unattended template failed to render; see the host page.\n" };
  }
}

/**
 * The installed system (or the ramdisk) says it finished: the mark clears, the next boot is
 * local. Idempotent; the run's steps and live feed follow (lib/deployments/agent.ts).
 */
export async function reportDeploymentFinished(db: Db, p: { mac: string; token: string; outcome: "done" | "failed"; reason?: string; body?: unknown; now?: Date }): Promise<BootAnswer> {
  return reportFinished(db, { mac: p.mac, token: p.token, outcome: p.outcome, body: p.body ?? p.reason, now: p.now });
}
