// Run records (issue 16 item 5) against a real database: the record is written with the run
// (each sha256 recomputed here from the rows it names), the kernel command line and the facts
// of the latest fact version; the outcome when the run ends; the JSON export, publishing and
// who may read; the diff against a newer image version and changed hardware; and a re-run that
// deploys the same pins (through the deploy-many group).
import { callRoute } from "@/test/harness/route-handler";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDeploymentRow } from "@/db/queries/deployments";
import { recordHostFactVersion } from "@/db/queries/host-facts";
import { updateHostRow } from "@/db/queries/hosts";
import { getTemplateVersion } from "@/db/queries/templates";
import type { HostFactSnapshot } from "@/db/schema";
import { actorOf, type Actor } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { createHost } from "@/lib/hosts/hosts";
import { addProjectMember } from "@/lib/projects/projects";
import { createTemplate, saveTemplateVersion } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { recordReadyImageVersion } from "@/test/harness/images";
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import * as recordById from "@/app/api/v1/records/[id]/route";
import * as recordPublish from "@/app/api/v1/records/[id]/publish/route";
import { cancelDeployment } from "./commands";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { finishDeployment, withDeployment } from "./engine";
import { rerunRunRecord } from "./record-rerun";
import { parseKernelCommandLine } from "./records";
import { diffRunRecord, getRunRecord, listRunRecords } from "./record-access";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-records-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
let admin: Actor;
let holder: Actor;
let outsider: Actor;
let leader: Actor;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "rec", macByte: 0xe7 });
  ({ admin, holder, outsider } = setup);
  leader = actorOf((await createActiveUser(t.db)).user, null);
  await addProjectMember(t.db, admin, setup.projectId, { userId: leader.user!.id, role: "leader" });
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
/** The test's own canonical JSON (keys sorted at every level, no whitespace), not the code's. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Sets the host's facts as an inventory would: the columns, and a new numbered version. */
async function reportFacts(hostId: string, s: HostFactSnapshot, at = new Date()) {
  await updateHostRow(t.db, hostId, s);
  return recordHostFactVersion(t.db, { hostId, snapshot: s, source: "commission", deploymentId: null, at });
}

const facts = (mac: string, memoryMb: number): HostFactSnapshot => ({
  cpuCores: 8,
  memoryMb,
  disks: [{ name: "vda", sizeBytes: 100e9, serial: "QM-1", type: "ssd" }],
  facts: { cpu: { model: "EPYC 7302", cores: 8 }, nics: [{ mac, name: "eth0", speedMbps: 1000 }], firmware: "uefi", dmi: { vendor: "QEMU", biosVersion: "1.16" }, bmc: { address: "10.9.9.9" } },
});

async function failRun(id: string, reason: string) {
  await withDeployment(t.db, id, (ctx) => finishDeployment(ctx, "failed", reason), new Date(Date.now() + 90_000));
}

describe("the record of a run", () => {
  it("is written with an image deploy: every sha256, the kernel command line, the facts of the latest fact version; the outcome when it ends", async () => {
    const { hostId, mac, machine } = await setup.heldHost();
    await reportFacts(hostId, facts(mac, 8192));
    const v2 = await reportFacts(hostId, facts(mac, 16384));
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, name: "exp-image" });
    const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, disk: "vda", vars: { kernel_args: "mitigations=off" } });
    expect(run.recordId).toEqual(expect.any(String));

    const view = await getRunRecord(t.db, holder, run.recordId!);
    const r = view.record;
    expect(view.recordSha256).toBe(sha256(canonical(r)));
    expect(r).toMatchObject({ schemaVersion: 1, run: { id: run.id, action: "deploy_image" }, host: { id: hostId, macs: [mac] }, vars: { kernel_args: "mitigations=off" }, options: { disk: "vda", wipeFirst: false, postInstall: null } });
    expect(r.image).toEqual({ id: img.image.id, name: "exp-image", version: 1, sha256: img.sha256, sizeBytes: img.bytes.length, format: "raw" });
    const row = (await getDeploymentRow(t.db, run.id))!;
    const source = (await getTemplateVersion(t.db, { templateId: row.systemTemplateId!, version: row.systemTemplateVersion! }))!.source;
    expect(r.templates).toEqual([{ role: "system", id: row.systemTemplateId, name: "Deploy image", builtinKey: "deploy-image", version: row.systemTemplateVersion, sha256: sha256(source) }]);
    expect(r.rendered).toEqual({ systemSha256: sha256(row.renderedSystem!), unattendedSha256: null });

    // The stored text holds the run's placeholder, never the token the machine gets.
    const script = await machine.boot();
    expect(machine.token).toBeTruthy();
    expect(row.renderedSystem).not.toContain(machine.token!);
    expect(script).toContain(`kiln.token=${machine.token}`);
    expect(r.kernel!.commandLine).toContain("kiln.token=<token> kiln.action=deploy");
    expect(r.kernel!.commandLine).toContain("mitigations=off");
    expect(r.kernel!.commandLine).not.toContain(row.tokenPlaceholder!);

    // The latest fact version, without the BMC's address.
    expect(r.facts).toMatchObject({ version: v2.version, recordedAt: v2.recordedAt.toISOString(), source: "commission", snapshot: { cpuCores: 8, memoryMb: 16384, disks: [{ name: "vda", serial: "QM-1" }] } });
    expect(r.facts!.snapshot.facts).toMatchObject({ cpu: { model: "EPYC 7302" }, firmware: "uefi", dmi: { vendor: "QEMU" }, nics: [{ mac }] });
    expect(r.facts!.snapshot.facts).not.toHaveProperty("bmc");
    expect(view.outcome).toBeNull();

    await failRun(run.id, "the disk would not take the image");
    const ended = await getRunRecord(t.db, holder, run.recordId!);
    expect(ended.outcome).toMatchObject({ state: "failed", failureReason: "the disk would not take the image", finishedAt: expect.any(String) });
    expect(ended.outcome!.durationSeconds).toBeGreaterThanOrEqual(89);
    // The outcome is beside the record, not in it: the record's sha256 does not move.
    expect(ended.recordSha256).toBe(view.recordSha256);
  });

  it("is written for installs, not for wipes; the list shows the project's records", async () => {
    const { hostId } = await setup.heldHost();
    const wipe = await startDeployment(t.db, holder, hostId, { action: "wipe_disk" });
    expect(wipe.recordId).toBeNull();
    await cancelDeployment(t.db, holder, wipe.id);
    const tpl = await createTemplate(t.db, holder, { name: "my-install", kind: "system", format: "ipxe", source: "#!ipxe\nkernel --name vmlinuz http://mirror/linux  console=ttyS0   ip=dhcp || goto failed\ninitrd http://mirror/initrd\nboot\n" });
    const run = await startDeployment(t.db, holder, hostId, { action: "install", systemTemplateId: tpl.id });
    const rec = await getRunRecord(t.db, holder, run.recordId!);
    expect(rec.record.kernel).toEqual({ image: "http://mirror/linux", commandLine: "console=ttyS0 ip=dhcp" });
    // Never inventoried: the host's own columns, unnumbered.
    expect(rec.record.facts).toMatchObject({ version: null, source: "host" });
    const list = await listRunRecords(t.db, holder, { hostId });
    expect(list.data.map((x) => x.id)).toEqual([run.recordId]);
    expect((await listRunRecords(t.db, holder, { projectId: setup.projectId })).data.map((x) => x.id)).toContain(run.recordId);
    await expectAppError(listRunRecords(t.db, outsider, { projectId: setup.projectId }), "not_found", /not a member/);
    expect((await listRunRecords(t.db, outsider, { hostId })).data).toEqual([]);
  });

  it("parses iPXE kernel lines and GRUB-style linux lines", () => {
    expect(parseKernelCommandLine("#!ipxe\nset base http://x\nkernel ${base}/linux initrd=initrd.gz auto=true --- quiet\n")).toEqual({ image: "${base}/linux", commandLine: "initrd=initrd.gz auto=true --- quiet" });
    expect(parseKernelCommandLine("  linux /vmlinuz root=/dev/sda1 ro\n")).toEqual({ image: "/vmlinuz", commandLine: "root=/dev/sda1 ro" });
    expect(parseKernelCommandLine("#!ipxe\nsanboot --no-describe --drive 0x80\n")).toBeNull();
    expect(parseKernelCommandLine(null)).toBeNull();
  });
});

describe("reading, exporting and publishing a record over HTTP", () => {
  it("exports JSON as a file; 404 for outsiders and the signed-out until a leader publishes it, then anyone reads it", async () => {
    const { hostId } = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id });
    const id = run.recordId!;
    const token = async (a: Actor) => (await createApiToken(t.db, a.user!.id, { name: "rec" })).token;
    const [holderToken, outsiderToken, leaderToken] = [await token(holder), await token(outsider), await token(leader)];
    const get = (tok?: string, query = "") => callRoute<any>(recordById.GET, "GET", `/api/v1/records/${id}${query}`, { token: tok, params: { id } });

    const file = await get(holderToken, "?download=1");
    expect(file.status).toBe(200);
    expect(file.headers.get("content-disposition")).toBe(`attachment; filename="kiln-run-${id}.json"`);
    expect(file.body.recordSha256).toBe(sha256(canonical(file.body.record)));
    expect(file.body.record.image.sha256).toBe(img.sha256);
    expect(file.body.url).toMatch(new RegExp(`/records/${id}$`));

    expect((await get(undefined)).status).toBe(404);
    expect((await get(outsiderToken)).status).toBe(404);
    expect((await get("not-a-token")).status).toBe(401);
    // A member who is not a leader may read, not publish.
    const byHolder = await callRoute<any>(recordPublish.POST, "POST", `/api/v1/records/${id}/publish`, { token: holderToken, params: { id } });
    expect(byHolder.status).toBe(403);
    const published = await callRoute<any>(recordPublish.POST, "POST", `/api/v1/records/${id}/publish`, { token: leaderToken, params: { id } });
    expect(published.status).toBe(200);
    expect(published.body.publishedAt).toEqual(expect.any(String));

    const anonymous = await get(undefined);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toMatchObject({ id, recordSha256: file.body.recordSha256, canPublish: false });
    expect((await get(outsiderToken)).status).toBe(200);
  });
});

describe("diff and re-run", () => {
  it("says a newer image version exists and what hardware changed; a re-run deploys the recorded pins, not the newest", async () => {
    const { hostId, mac, leaseId } = await setup.heldHost();
    await reportFacts(hostId, facts(mac, 16384));
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, name: "rerun-image" });
    const first = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, vars: { role: "worker" }, wipeFirst: true });
    const id = first.recordId!;
    await failRun(first.id, "power cut");

    // Unchanged: nothing to say but that the hardware matches.
    const same = await diffRunRecord(t.db, holder, id, { hostId });
    expect(same.image).toMatchObject({ pinnedVersion: 1, latestVersion: 1, newerExists: false, pinnedAvailable: true, usable: true });
    expect(same.facts!.changes).toEqual([]);
    expect(same.summary).toEqual([`${same.host!.name}'s hardware matches the record.`]);

    await recordReadyImageVersion(t.db, { imageId: img.image.id, uploadedByUserId: holder.user!.id, sizeBytes: 1024, sha256: "a".repeat(64) });
    const later = facts(mac, 32768);
    later.disks = [...later.disks, { name: "vdb", sizeBytes: 50e9, serial: "QM-2", type: "hdd" }];
    await reportFacts(hostId, later);
    const diff = await diffRunRecord(t.db, holder, id, { hostId });
    expect(diff.image).toMatchObject({ pinnedVersion: 1, latestVersion: 2, newerExists: true, pinnedAvailable: true });
    expect(diff.facts).toMatchObject({ recordedVersion: 1, currentVersion: 2 });
    expect(diff.facts!.changes).toEqual(
      expect.arrayContaining([
        { kind: "changed", what: "memory (MB)", before: "16384", after: "32768" },
        expect.objectContaining({ kind: "added", what: "disk vdb" }),
      ]),
    );
    expect(diff.summary).toEqual(expect.arrayContaining([expect.stringMatching(/A newer version of image “rerun-image” exists: v2 \(a re-run writes v1, as recorded\)/), expect.stringMatching(/hardware differs from the record: .*memory \(MB\) 16384 → 32768/)]));
    // Another's host: not told.
    await expectAppError(diffRunRecord(t.db, outsider, id, { hostId }), "not_found");

    // The re-run: the pinned version 1, the same vars and options, a new record pointing back.
    await expectAppError(rerunRunRecord(t.db, outsider, id, { hostIds: [hostId] }), "not_found");
    const other = await setup.heldHost();
    await expectAppError(rerunRunRecord(t.db, holder, id, { hostIds: [hostId, other.hostId] }), "validation", /2 different leases .* one lease at a time/);
    const rerun = await rerunRunRecord(t.db, holder, id, { hostIds: [hostId] });
    expect(rerun.deploymentIds).toHaveLength(1);
    const again = (await getDeploymentRow(t.db, rerun.deploymentIds[0]!))!;
    const firstRow = (await getDeploymentRow(t.db, first.id))!;
    expect(again).toMatchObject({ hostId, leaseId, action: "deploy_image", imageId: img.image.id, imageVersion: 1, vars: { role: "worker" }, systemTemplateId: firstRow.systemTemplateId, systemTemplateVersion: firstRow.systemTemplateVersion });
    expect(again.options).toMatchObject({ wipeFirst: true });
    const againView = await getDeployment(t.db, holder, again.id);
    const againRecord = await getRunRecord(t.db, holder, againView.recordId!);
    expect(againRecord.rerunOf).toBe(id);
    expect(againRecord.record.image).toMatchObject({ version: 1, sha256: img.sha256 });
    expect(againRecord.record.facts).toMatchObject({ version: 2, snapshot: { memoryMb: 32768 } });
    expect((await getRunRecord(t.db, holder, id)).reruns).toEqual([againRecord.id]);
  });

  it("re-runs an install with the recorded template version after the template moved on, on another held host", async () => {
    const a = await setup.heldHost();
    const tpl = await createTemplate(t.db, holder, { name: "pinned-install", kind: "system", format: "ipxe", source: "#!ipxe\nkernel http://m/linux v=1\nboot\n" });
    const run = await startDeployment(t.db, holder, a.hostId, { action: "install", systemTemplateId: tpl.id, vars: { k: "v" } });
    await saveTemplateVersion(t.db, holder, tpl.id, { source: "#!ipxe\nkernel http://m/linux v=2\nboot\n" });
    const diff = await diffRunRecord(t.db, holder, run.recordId!);
    expect(diff.templates).toEqual([expect.objectContaining({ name: "pinned-install", pinnedVersion: 1, latestVersion: 2, newerExists: true, builtin: false })]);
    expect(diff.summary).toContain("Template “pinned-install” has a newer version: v2 (a re-run uses v1, as recorded).");
    expect(diff.facts).toBeNull();

    // A second host in a lease of its own, held by the same holder.
    const h = await createHost(t.db, admin, { name: `rec-other-${Date.now()}`, interfaces: [{ mac: "52:54:00:e7:01:01" }], power: { driver: "manual", params: {} } });
    await createLease(t.db, admin, { hostIds: [h.id], userId: holder.user!.id, projectId: setup.projectId });
    const rerun = await rerunRunRecord(t.db, holder, run.recordId!, { hostIds: [h.id] });
    const row = (await getDeploymentRow(t.db, rerun.deploymentIds[0]!))!;
    expect(row).toMatchObject({ hostId: h.id, systemTemplateId: tpl.id, systemTemplateVersion: 1, vars: { k: "v" } });
    expect(row.renderedSystem).toContain("v=1");
  });
});
