// What the deploy agent fetches under /boot/<mac>/<token>/…: its script, and its instructions
// as JSON or shell assignments, each URL it reports to included. Fetching the instructions is the
// "agent started" milestone. What it reports back is ./agent.ts; how it is recognised, ./deployment-auth.ts.
import { listSteps } from "@/db/queries/deployments";
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import { deploymentUrls } from "@/boot/context";
import { shellQuote } from "@/boot/shell-quote";
import { readAgentScript } from "@/boot/agent/agent-script";
import type { Db } from "../db";
import { getEnv } from "../env";
import { isBlockMapWorthIt } from "../images/block-map";
import { blobPathOf } from "../images/images";
import { UPLOAD_PATH } from "../validation/images";
import { deploymentAuthorization, ended, findDeploymentByToken, isLive, json, notFound, TEXT, type AgentAnswer, type Found } from "./deployment-auth";
import { siteBootUrlOf } from "../sites/sites";
import { advance, appendLog, withDeployment } from "./engine";

/** How often the agent should report progress; the deadline of a data step is far longer. */
export const PROGRESS_INTERVAL_SECONDS = 5;

/** GET …/agent — the agent script the ramdisk runs (boot/agent/*.sh, joined into one). */
export async function serveAgentScript(db: Db, p: { mac: string; token: string; now?: Date }): Promise<AgentAnswer> {
  const found = await findDeploymentByToken(db, p);
  if (!found) return notFound();
  if (!isLive(found.deployment, p.now ?? new Date())) return ended(found.deployment);
  return { status: 200, contentType: "text/x-shellscript; charset=utf-8", body: await readAgentScript() };
}

/** What the agent needs to do its job, with every URL it reports to. */
async function agentParams(db: Db, f: Found, token: string) {
  const { deployment: d, host, mac } = f;
  // The site's boot server, where this machine is being answered.
  const base = await siteBootUrlOf(db, host);
  const urls = deploymentUrls(base, mac, token);
  const disk = d.options.disk ?? (typeof d.vars.disk === "string" ? d.vars.disk : null);
  let image = null;
  if (d.action === "deploy_image" && d.imageId && d.imageVersion) {
    const [img, v] = await Promise.all([getImageRow(db, d.imageId), getImageVersionRow(db, { imageId: d.imageId, version: d.imageVersion })]);
    if (img && v) {
      // The block map only where it pays (and belongs to these bytes): the agent then zeroes the
      // disk and writes only the mapped ranges; without it, every byte (docs/images.md).
      const map = isBlockMapWorthIt(v.blockMap, v.sha256) ? v.blockMap : null;
      const blockMap = map && { imageSizeBytes: map.imageSizeBytes, mappedBytes: map.mappedBytes, mappedSha256: map.mappedSha256, ranges: map.ranges };
      image = { name: img.name, version: v.version, url: `${base}${blobPathOf(img.id, v.version)}?token=${token}`, sha256: v.sha256, sizeBytes: v.sizeBytes, format: v.format, blockMap };
    }
  }
  return {
    deploymentId: d.id,
    action: d.action,
    host: { name: host.name, mac },
    disk,
    wipeFirst: d.options.wipeFirst === true,
    wipeMode: d.options.wipeMode ?? "quick",
    image,
    // tus (lib/deployments/capture.ts): the run's token is the agent's credential.
    capture: d.action === "capture_disk" ? { uploadUrl: `${base}${UPLOAD_PATH}`, authorization: deploymentAuthorization(mac, token), chunkMiB: getEnv().KILN_CAPTURE_CHUNK_MIB } : null,
    // The NoCloud seed the agent names in the written system's cloud-init configuration
    // (/etc/cloud/cloud.cfg.d/99-kiln.cfg), for a deploy with a cloud-init template.
    cloudInitSeed: d.action === "deploy_image" && d.unattendedTemplateId ? urls.nocloud : null,
    report: { inventory: `${urls.root}/inventory`, progress: `${urls.root}/progress`, log: `${urls.root}/log`, done: urls.done, failed: urls.failed },
    progressIntervalSeconds: PROGRESS_INTERVAL_SECONDS,
    // After a wipe the machine is left off: by Kiln's power_off step where the host's driver
    // can switch it off, otherwise (Wake-on-LAN, manual) by the ramdisk itself. A commissioned
    // machine always switches itself off (Kiln's power_off step, where there is one, then finds
    // it off): a new machine's disk may hold nothing to boot, so it is never rebooted into it.
    then:
      d.action === "commission" || (d.action === "wipe_disk" && !(await listSteps(db, [d.id])).some((s) => s.name === "power_off")) ? ("poweroff" as const) : ("reboot" as const),
  };
}

/** GET …/agent.json — the agent's instructions. Fetching them is the "agent started" milestone. */
export async function serveAgentParams(db: Db, p: { mac: string; token: string; now?: Date }): Promise<AgentAnswer> {
  const now = p.now ?? new Date();
  const found = await findDeploymentByToken(db, p);
  if (!found) return notFound();
  if (!isLive(found.deployment, now)) return ended(found.deployment);
  if (found.deployment.action === "install") return notFound();
  const params = await agentParams(db, found, p.token);
  await withDeployment(
    db,
    found.deployment.id,
    async (ctx) => {
      if (await advance(ctx, "agent")) await appendLog(ctx, "kiln", ["the deploy agent started and fetched its instructions"]);
    },
    now,
  );
  return json(200, params);
}

/**
 * GET …/agent.env — the same instructions as shell assignments (KILN_ACTION='deploy_image'…),
 * for an agent written in POSIX sh with no JSON parser. Fetching them counts like agent.json.
 */
export async function serveAgentEnv(db: Db, p: { mac: string; token: string; now?: Date }): Promise<AgentAnswer> {
  const answer = await serveAgentParams(db, p);
  if (answer.status !== 200) return answer;
  const params = JSON.parse(answer.body) as Awaited<ReturnType<typeof agentParams>>;
  const vars: Record<string, string | number | null | undefined> = {
    KILN_DEPLOYMENT_ID: params.deploymentId,
    KILN_ACTION: params.action,
    KILN_HOST_NAME: params.host.name,
    KILN_DISK: params.disk,
    KILN_WIPE_FIRST: params.wipeFirst ? "1" : "0",
    KILN_WIPE_MODE: params.wipeMode,
    KILN_IMAGE_URL: params.image?.url,
    KILN_IMAGE_SHA256: params.image?.sha256,
    KILN_IMAGE_SIZE: params.image?.sizeBytes,
    KILN_IMAGE_FORMAT: params.image?.format,
    // One "start length sha256" line per mapped range of the logical image, in order.
    KILN_IMAGE_MAP: params.image?.blockMap?.ranges.map((r) => `${r.start} ${r.length} ${r.sha256}`).join("\n"),
    KILN_IMAGE_LOGICAL_SIZE: params.image?.blockMap?.imageSizeBytes,
    KILN_IMAGE_MAPPED_BYTES: params.image?.blockMap?.mappedBytes,
    KILN_IMAGE_MAPPED_SHA256: params.image?.blockMap?.mappedSha256,
    KILN_UPLOAD_URL: params.capture?.uploadUrl,
    KILN_UPLOAD_AUTH: params.capture?.authorization,
    KILN_CAPTURE_CHUNK_MIB: params.capture?.chunkMiB,
    KILN_CLOUD_INIT_SEED: params.cloudInitSeed,
    KILN_REPORT_INVENTORY: params.report.inventory,
    KILN_REPORT_PROGRESS: params.report.progress,
    KILN_REPORT_LOG: params.report.log,
    KILN_REPORT_DONE: params.report.done,
    KILN_REPORT_FAILED: params.report.failed,
    KILN_PROGRESS_INTERVAL: params.progressIntervalSeconds,
    KILN_THEN: params.then,
  };
  const body = Object.entries(vars)
    .map(([k, v]) => `${k}=${shellQuote(v === null || v === undefined ? "" : String(v))}`)
    .join("\n");
  return { status: 200, contentType: TEXT, body: `${body}\n` };
}
