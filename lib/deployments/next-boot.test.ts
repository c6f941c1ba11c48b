import { describe, expect, it } from "vitest";
import type { DeploymentRow, DeploymentStepRow } from "@/db/schema";
import { decideNextBoot } from "./next-boot";

let n = 0;
function run(p: { action?: DeploymentRow["action"]; state: DeploymentRow["state"]; started?: string[]; reason?: string; allowed?: boolean; written?: boolean }) {
  const id = `00000000-0000-0000-0000-${String(++n).padStart(12, "0")}`;
  const deployment = { id, action: p.action ?? "deploy_image", state: p.state, failureReason: p.reason ?? null, finishedAt: new Date("2026-11-10T10:00:00Z"), diskBootAllowedAt: p.allowed ? new Date() : null, diskWrittenAt: p.written ? new Date() : null } as DeploymentRow;
  const names = ["power_on", "boot", "agent", "write", "verify", "install", "wipe", "capture"];
  const steps = names.map((name) => ({ deploymentId: id, name, startedAt: p.started?.includes(name) ? new Date() : null }) as DeploymentStepRow);
  return { deployment, steps };
}

describe("decideNextBoot", () => {
  it("boots the disk when there is no run at all", () => {
    expect(decideNextBoot([])).toEqual({ kind: "disk" });
  });

  it("answers an active run with its script, whatever came before", () => {
    const r = run({ state: "running" });
    expect(decideNextBoot([r, run({ state: "failed", started: ["write"] })])).toMatchObject({ kind: "run", deploymentId: r.deployment.id, action: "deploy_image" });
  });

  it("boots the disk for an active deploy whose image is written and waits for cloud-init's first boot", () => {
    expect(decideNextBoot([run({ state: "running", started: ["write", "verify", "first_boot"], written: true })])).toEqual({ kind: "disk" });
  });

  it("does not halt after a deploy that failed or was cancelled once its image was written and verified (first boot)", () => {
    expect(decideNextBoot([run({ state: "failed", started: ["write", "verify"], written: true, reason: "First boot (cloud-init): timed out" })])).toEqual({ kind: "disk" });
    expect(decideNextBoot([run({ state: "cancelled", started: ["write", "verify"], written: true })])).toEqual({ kind: "disk" });
  });

  it("halts after a deploy that failed or was cancelled once its write had started, with the reason", () => {
    const failed = run({ state: "failed", started: ["write", "verify"], reason: "Verify the written image: checksum mismatch" });
    expect(decideNextBoot([failed])).toEqual({ kind: "halt", deploymentId: failed.deployment.id, reason: "Verify the written image: checksum mismatch", state: "failed", finishedAt: "2026-11-10T10:00:00.000Z" });
    const cancelled = run({ state: "cancelled", started: ["write"], reason: "cancelled by rita@example.org" });
    expect(decideNextBoot([cancelled])).toMatchObject({ kind: "halt", state: "cancelled", reason: "cancelled by rita@example.org" });
  });

  it("passes over runs that never touched the disk: a deploy that failed before writing, a capture", () => {
    const bad = run({ state: "failed", started: ["write"], reason: "checksum mismatch" });
    expect(decideNextBoot([run({ state: "failed", started: ["power_on", "boot"] }), run({ action: "capture_disk", state: "done" }), bad])).toMatchObject({ kind: "halt", deploymentId: bad.deployment.id });
    expect(decideNextBoot([run({ state: "failed", started: ["boot"] })])).toEqual({ kind: "disk" });
  });

  it("ends the halt when someone acts: a later run that wrote the disk and finished, or boot-the-disk-anyway", () => {
    const bad = run({ state: "failed", started: ["write"] });
    expect(decideNextBoot([run({ state: "done" }), bad])).toEqual({ kind: "disk" });
    expect(decideNextBoot([run({ action: "wipe_disk", state: "done" }), bad])).toEqual({ kind: "disk" });
    expect(decideNextBoot([run({ action: "install", state: "done" }), bad])).toEqual({ kind: "disk" });
    expect(decideNextBoot([run({ state: "failed", started: ["write"], allowed: true })])).toEqual({ kind: "disk" });
  });

  it("a later deploy that failed mid-write halts again, even after an earlier one was allowed", () => {
    const again = run({ state: "failed", started: ["write"], reason: "second failure" });
    expect(decideNextBoot([again, run({ state: "failed", started: ["write"], allowed: true })])).toMatchObject({ kind: "halt", reason: "second failure" });
  });
});
