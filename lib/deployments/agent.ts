// The machine's side of a run, under /boot/<mac>/<token>/…: the deploy agent, having fetched its
// script and instructions (./agent-instructions.ts), reports inventory, progress, log lines and
// the end; installers report the end. Authenticated by the run's one-time token and the MAC it was issued for.
// A bad token or a foreign MAC is 404 (nothing is revealed); a report for a run that has
// ended is 409; a repeated "done" is answered 200 and changes nothing. A capture run's "done"
// is 202 while Kiln still verifies the uploaded disk (./capture.ts).
import { updateDeploymentRow } from "@/db/queries/boot";
import { insertHostEvents, updateHostRow } from "@/db/queries/hosts";
import { getLatestHostFactVersion, recordHostFactVersion } from "@/db/queries/host-facts";
import { factsFromInventory, snapshotOf, summarizeFacts } from "../hosts/facts";
import { diffFacts } from "../hosts/facts-diff";
import { insertLeaseEvent } from "@/db/queries/leases";
import type { Db } from "../db";
import { cleanReported, parseIpOutput, recordHostAddresses } from "../hosts/addresses";
import { isActiveDeployment } from "../hosts/state-machine";
import { agentFinishSchema, agentInventorySchema, agentLogSchema, agentProgressSchema } from "../validation/deployments";
import { settleCapture } from "./capture";
import { ended, findDeploymentByToken, isLive, json, notFound, TEXT, type AgentAnswer, type Found } from "./deployment-auth";
import { RECHECK_IMAGE_VERSION_JOB } from "../images/jobs";
import { advance, appendLog, currentStep, emit, enqueueLater, extendDeadline, failDeployment, withDeployment, type DeploymentContext } from "./engine";
import { PROGRESS_STEPS, STEPS, isStepName, type StepName } from "./plan";

const bad = (message: string): AgentAnswer => json(400, { error: { code: "validation", message } });

/** Runs a report against the live run; 404 / 409 / 400 as the module comment says. */
async function report(db: Db, p: { mac: string; token: string; now?: Date }, fn: (ctx: DeploymentContext, f: Found) => Promise<AgentAnswer | void>): Promise<AgentAnswer> {
  const now = p.now ?? new Date();
  const found = await findDeploymentByToken(db, p);
  if (!found) return notFound();
  if (!isLive(found.deployment, now)) return ended(found.deployment);
  const answer = await withDeployment(
    db,
    found.deployment.id,
    async (ctx) => {
      // Re-checked under the lock: the run may have ended while this request waited.
      if (!isActiveDeployment(ctx.run.deployment.state)) return ended(ctx.run.deployment);
      return (await fn(ctx, found)) ?? json(200, { ok: true });
    },
    now,
  );
  return answer ?? notFound();
}

/**
 * POST …/inventory — fills the host's facts: CPU, memory, disks, NICs and, from a commissioning
 * agent, DMI, firmware and BMC (lib/hosts/facts.ts). Each report is also kept as a version of
 * the host's facts (one per run; a deploy's only when something changed), so the host page
 * can say what changed since last time.
 */
export async function reportInventory(db: Db, p: { mac: string; token: string; body: unknown; now?: Date }): Promise<AgentAnswer> {
  const parsed = agentInventorySchema.safeParse(p.body);
  if (!parsed.success) return bad(`The inventory is not valid: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
  const inv = parsed.data;
  return report(db, p, async (ctx, f) => {
    const commissioning = ctx.run.deployment.action === "commission";
    const reported = factsFromInventory(inv, f.host.facts, { at: ctx.at, commissioned: commissioning });
    const addresses = cleanReported((inv.nics ?? []).flatMap((n) => (n.addresses ?? []).map((address) => ({ address, mac: n.mac }))));
    await recordHostAddresses(ctx.tx, { hostId: f.host.id, source: "agent", addresses, at: ctx.at });
    const host = (await updateHostRow(ctx.tx, f.host.id, {
      ...(reported.cpuCores !== undefined ? { cpuCores: reported.cpuCores } : {}),
      ...(reported.memoryMb !== undefined ? { memoryMb: reported.memoryMb } : {}),
      ...(reported.disks ? { disks: reported.disks } : {}),
      facts: reported.facts,
    }))!;
    const snapshot = snapshotOf(host);
    const latest = await getLatestHostFactVersion(ctx.tx, f.host.id);
    const changes = latest && latest.deploymentId !== ctx.run.deployment.id ? diffFacts(latest.snapshot, snapshot) : null;
    if (commissioning || !latest || latest.deploymentId === ctx.run.deployment.id || (changes && changes.length > 0)) {
      const v = await recordHostFactVersion(ctx.tx, { hostId: f.host.id, snapshot, source: commissioning ? "commission" : "deploy", deploymentId: ctx.run.deployment.id, at: ctx.at });
      const said = changes === null ? "" : changes.length === 0 ? "; nothing changed since the version before" : `; ${changes.length} change${changes.length === 1 ? "" : "s"} since the version before`;
      await appendLog(ctx, "kiln", [`hardware facts recorded as version ${v.version}${said}`]);
    }
    await insertHostEvents(ctx.tx, [{ hostId: f.host.id, kind: "inventory", at: ctx.at, message: `inventory from the ${commissioning ? "commissioning" : "deploy"} agent: ${summarizeFacts(snapshot)}` }]);
    await appendLog(ctx, "kiln", [`inventory recorded: ${summarizeFacts(snapshot)}`]);
    await emit(ctx, "inventory", { cpuCores: inv.cpuCores ?? null, memoryMb: inv.memoryMb ?? null, disks: reported.disks ?? [], nics: inv.nics ?? [] });
    // The facts are in: that is what a commissioning run is for (its "done" follows, idempotent).
    if (commissioning) await advance(ctx, "inventory", "the hardware was reported");
  });
}

/** POST …/progress — bytes so far (and total, rate); moves the step's deadline forward. */
export async function reportProgress(db: Db, p: { mac: string; token: string; body: unknown; now?: Date }): Promise<AgentAnswer> {
  const parsed = agentProgressSchema.safeParse(p.body);
  if (!parsed.success) return bad(`The progress report is not valid: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
  const pr = parsed.data;
  return report(db, p, async (ctx) => {
    const d = ctx.run.deployment;
    // Progress means the machine booted and its agent runs, even if those reports were lost;
    // a phase (write → verify) means the steps before it are done. Both are idempotent.
    if (ctx.run.steps.some((s) => s.name === "agent")) await advance(ctx, "agent");
    const phaseIdx = pr.phase ? ctx.run.steps.findIndex((s) => s.name === pr.phase) : -1;
    if (phaseIdx > 0) await advance(ctx, ctx.run.steps[phaseIdx - 1]!.name as StepName);
    const step = currentStep(ctx.run.steps);
    // Progress never goes backwards: an agent that starts over (the machine rebooted into the
    // same run) or a late report counts again from below what was recorded; the record keeps
    // the most bytes any report has shown until the new count passes it.
    const behind = pr.bytes < d.bytesWritten;
    const bytes = Math.max(d.bytesWritten, pr.bytes);
    const previous = d.progressAt && !behind ? { bytes: d.bytesWritten, at: d.progressAt } : null;
    const seconds = previous ? (ctx.at.getTime() - previous.at.getTime()) / 1000 : 0;
    const rate = pr.rate ?? (previous && seconds > 0 ? (pr.bytes - previous.bytes) / seconds : behind ? d.rateBytesPerSecond : null);
    const total = pr.totalBytes || d.totalBytes || null;
    ctx.run.deployment = (await updateDeploymentRow(ctx.tx, d.id, { bytesWritten: bytes, totalBytes: total, rateBytesPerSecond: rate === null ? null : Math.round(rate), progressAt: ctx.at }))!;
    if (step && PROGRESS_STEPS.includes(step.name as StepName)) await extendDeadline(ctx, step);
    await emit(ctx, "progress", {
      step: step?.name ?? null,
      bytes,
      totalBytes: total,
      rateBytesPerSecond: rate === null ? null : Math.round(rate),
      etaSeconds: rate && rate > 0 && total !== null ? Math.round(Math.max(0, total - bytes) / rate) : null,
      message: pr.message ?? null,
    });
  });
}

/** POST …/log — lines for the run's log, as JSON `{ lines: [...] }` or plain text. */
export async function reportLog(db: Db, p: { mac: string; token: string; body: unknown; now?: Date }): Promise<AgentAnswer> {
  const body = typeof p.body === "string" ? { lines: p.body.split("\n").filter((l) => l.length > 0) } : p.body;
  const parsed = agentLogSchema.safeParse(body);
  if (!parsed.success) return bad(`The log report is not valid: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
  return report(db, p, async (ctx) => {
    await appendLog(ctx, "agent", parsed.data.lines);
    // The installed system's first boot talks through its log (the post-install runner sends
    // its output in batches): a long playbook that is still printing is not a silent machine.
    const step = currentStep(ctx.run.steps);
    if (step?.name === "first_boot") await extendDeadline(ctx, step);
  });
}

/**
 * POST …/done or …/failed — the run's end as the machine sees it. "done" finishes every step
 * the machine drives (a following power-off still runs); "failed" fails the current step with
 * the machine's reason ("checksum mismatch", "disk /dev/sdz not found"). Installers post
 * anything or nothing; the agent posts JSON `{ reason }`.
 */
export async function reportFinished(db: Db, p: { mac: string; token: string; outcome: "done" | "failed"; body?: unknown; now?: Date }): Promise<AgentAnswer> {
  const now = p.now ?? new Date();
  const found = await findDeploymentByToken(db, p);
  if (!found) return notFound();
  const parsed = agentFinishSchema.safeParse(typeof p.body === "string" ? (p.body.trim() ? { reason: p.body.trim().slice(0, 2000) } : {}) : (p.body ?? {}));
  const info = parsed.success ? parsed.data : {};
  const answer = await withDeployment(
    db,
    found.deployment.id,
    async (ctx): Promise<AgentAnswer> => {
      const d = ctx.run.deployment;
      if (!isActiveDeployment(d.state) || d.tokenExpiresAt.getTime() <= now.getTime()) {
        // A repeated "done" (or "failed") for the same end changes nothing.
        if (d.state === p.outcome) return { status: 200, contentType: TEXT, body: "already recorded\n" };
        return ended(d);
      }
      if (p.outcome === "failed") {
        const reason = info.reason?.trim() || "the machine reported a failure without a reason";
        await appendLog(ctx, "agent", [`failed: ${reason}`]);
        await failDeployment(ctx, reason);
        // The agent's sha256 of the delivered bytes differed: the stored blob may have gone
        // bad (or the network corrupted it). Re-hash it; a blob that no longer matches fails
        // its version, so the next deploy is refused instead of failing the same way.
        if (d.action === "deploy_image" && d.imageId && d.imageVersion && /^checksum mismatch\b/.test(reason)) {
          const job = { imageId: d.imageId, version: d.imageVersion, cause: `a deploy of it to ${found.host.name} failed its checksum (deployment ${d.id})` };
          enqueueLater(ctx, RECHECK_IMAGE_VERSION_JOB, job, { singletonKey: `${d.imageId}/${d.imageVersion}` });
          await appendLog(ctx, "kiln", [`re-checking the stored bytes of image version ${d.imageVersion}`]);
        }
        return { status: 200, contentType: TEXT, body: "ok\n" };
      }
      // What the machine says it is reachable at: an installer's (or the installed system's) done
      // call sends `ip -o link; ip -o addr` as text or `{ addresses }`; the deploy agent's come
      // with its inventory.
      const reported = typeof p.body === "string" ? parseIpOutput(p.body) : cleanReported(info.addresses ?? []);
      // A run with first_boot (an image deploy with cloud-init, an install with post-install) has
      // two "done"s on the same URL: the agent's or installer's (the disk is written) and then the
      // installed system's. Which one this is follows from where the run is: before first_boot it
      // is the first.
      const firstBoot = ctx.run.steps.find((s) => s.name === "first_boot");
      const diskDone = firstBoot !== undefined && firstBoot.state === "pending";
      const installed = d.action === "install" || (firstBoot !== undefined && !diskDone);
      await recordHostAddresses(ctx.tx, { hostId: found.host.id, source: installed ? "installed" : "agent", addresses: reported, at: now });
      if (d.action === "capture_disk") return settleCapture(ctx, info);
      if (info.sha256 || info.bytes !== undefined) await appendLog(ctx, "agent", [`done: ${info.bytes ?? "?"} bytes${info.sha256 ? `, sha256 ${info.sha256}` : ""}`]);
      if (info.bytes !== undefined) ctx.run.deployment = (await updateDeploymentRow(ctx.tx, d.id, { bytesWritten: Math.max(d.bytesWritten, info.bytes), progressAt: now }))!;
      if (d.action === "wipe_disk") await recordErasure(ctx, found, info.erased ?? []);
      if (diskDone) {
        ctx.run.deployment = (await updateDeploymentRow(ctx.tx, d.id, { diskWrittenAt: now }))!;
        // The step before first_boot: verify for an image deploy, install for an installer.
        const before = ctx.run.steps[ctx.run.steps.indexOf(firstBoot!) - 1]!;
        await advance(ctx, before.name as StepName, "reported done by the machine");
        await appendLog(ctx, "kiln", [
          d.action === "install"
            ? "the installer is done: the machine now boots the installed system from its disk, whose first boot runs the post-install repository and reports done"
            : "the image is written: the machine now boots it from its disk, and cloud-init there reads this run's seed and reports done",
        ]);
        return { status: 200, contentType: TEXT, body: "ok\n" };
      }
      const lastMachine = [...ctx.run.steps].reverse().find((s) => isStepName(s.name) && STEPS[s.name].driver === "machine");
      if (lastMachine) await advance(ctx, lastMachine.name as StepName, "reported done by the machine");
      return { status: 200, contentType: TEXT, body: "ok\n" };
    },
    now,
  );
  return answer ?? notFound();
}

/**
 * A finished wipe leaves an erase record on the lease it ran under (the holder's, or the one
 * whose release it ends): which disks, how big, how they were erased, by which run. It is
 * what an administrator shows when asked whether the last holder's data is gone.
 */
async function recordErasure(ctx: DeploymentContext, f: Found, erased: { disk: string; sizeBytes: number; method: string }[]): Promise<void> {
  const d = ctx.run.deployment;
  const mode = d.options.wipeMode ?? "quick";
  const summary = erased.length ? erased.map((e) => `${e.disk} (${e.sizeBytes} bytes, ${e.method})`).join("; ") : "no disk details reported";
  await appendLog(ctx, "kiln", [`erase record: ${mode} wipe of ${summary}`]);
  if (!d.leaseId) return;
  await insertLeaseEvent(ctx.tx, {
    leaseId: d.leaseId,
    at: ctx.at,
    actorUserId: null,
    kind: "erased",
    message: `${f.host.name}: ${mode} wipe of ${summary} (deployment ${d.id})`,
    data: { hostId: f.host.id, deploymentId: d.id, mode, disks: erased },
  });
}

/** The machine asked for its boot script: the boot step is done. */
export async function noteBootRequest(db: Db, deploymentId: string, now: Date): Promise<void> {
  await withDeployment(
    db,
    deploymentId,
    async (ctx) => {
      const boots = ctx.run.deployment.bootCount;
      if (await advance(ctx, "boot")) await appendLog(ctx, "kiln", ["the machine network-booted and got its boot script"]);
      else if (boots > 1) await appendLog(ctx, "kiln", [`the machine network-booted again (boot ${boots}); it continues the same run`]);
    },
    now,
  );
}

/** The installer fetched its answers (preseed, kickstart, user-data). */
export async function noteFileFetched(db: Db, deploymentId: string, file: string, now: Date): Promise<void> {
  await withDeployment(db, deploymentId, async (ctx) => appendLog(ctx, "kiln", [`the installer fetched ${file}`]), now);
}

/** A per-deployment file failed to render while the machine waited for it. */
export async function failFromBoot(db: Db, deploymentId: string, reason: string, now: Date): Promise<void> {
  await withDeployment(db, deploymentId, (ctx) => failDeployment(ctx, reason), now);
}
