import { beforeAll, describe, expect, it } from "vitest";
import { countHostsBySourceIp, findTakenMacs, getHostRow } from "@/db/queries/hosts";
import { actorOf } from "@/lib/access/actor";
import { answerBootRequest, reportDeploymentFinished, serveDeploymentFile } from "@/lib/boot/boot-service";
import { getBootSettings, markForReinstall, undoMark, updateBootSettings } from "@/lib/boot/boot-settings";
import { deploymentToken } from "@/lib/deployments/deployment-token";
import { createHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { addSshKey } from "@/lib/accounts/profile";
import { createTemplate, getTemplate, listTemplates, previewTemplate, saveTemplateVersion, syncBuiltinTemplates, diffTemplateVersions } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";

const t = await useTestDb();

const MAC = "52:54:00:aa:00:01";
let ids: { host: string; other: string; sys: string; un: string };
let users: Awaited<ReturnType<typeof setup>>;

async function setup() {
  const { user: admin } = await createActiveUser(t.db, { admin: true });
  const { user: rita } = await createActiveUser(t.db, { name: "Rita" });
  const { user: sam } = await createActiveUser(t.db, { name: "Sam" });
  return { admin, rita, sam };
}

beforeAll(async () => {
  await syncBuiltinTemplates(t.db);
  users = await setup();
  const A = actorOf(users.admin, null);
  const pool = await createPool(t.db, A, { name: "boot-pool" });
  const host = await createHost(t.db, A, { name: "pxe-01", poolId: pool.id, interfaces: [{ mac: MAC, name: "eno1" }, { mac: "52:54:00:aa:00:02" }] });
  const other = await createHost(t.db, A, { name: "pxe-02", poolId: pool.id, interfaces: [{ mac: "52:54:00:aa:00:03" }] });
  const project = await createProject(t.db, A, { name: "boot-proj" });
  await addProjectMember(t.db, A, project.id, { email: users.rita.email });
  await addProjectMember(t.db, A, project.id, { email: users.sam.email });
  await createLease(t.db, actorOf(users.admin, null), { hostIds: [host.id], userId: users.rita.id, projectId: project.id });
  await createLease(t.db, actorOf(users.admin, null), { hostIds: [other.id], userId: users.sam.id, projectId: project.id });
  await addSshKey(t.db, users.rita.id, { publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl rita@laptop" });
  const all = await listTemplates(t.db, actorOf(users.rita, null));
  ids = {
    host: host.id,
    other: other.id,
    sys: all.find((x) => x.builtinKey === "debian-12-netinstall")!.id,
    un: all.find((x) => x.builtinKey === "debian-12-preseed")!.id,
  };
});

describe("GET /boot/<mac>", () => {
  it("answers local boot for an idle host, for every MAC form", async () => {
    for (const form of [MAC, "52-54-00-AA-00-01", "525400aa0001", "5254.00aa.0001"]) {
      const a = await answerBootRequest(t.db, { mac: form, sourceIp: "10.0.0.5" });
      expect(a.status).toBe(200);
      expect(a.body).toMatch(/^#!ipxe\n/);
      expect(a.body).toContain("this machine boots from its local disk");
      expect(a.body).not.toContain("pxe-01");
      expect(a.body).toContain("iseq ${platform} efi");
    }
  });

  it("refuses a malformed MAC with 400 and an iPXE message", async () => {
    const a = await answerBootRequest(t.db, { mac: "not-a-mac", sourceIp: "10.0.0.5" });
    expect(a.status).toBe(400);
    expect(a.body).toMatch(/^#!ipxe\necho Kiln: .*not a MAC address/);
  });

  it("records an unknown MAC once as a new host, with hint, source and times", async () => {
    const mac = "52-54-00-bb-00-01";
    for (let i = 0; i < 3; i++) await answerBootRequest(t.db, { mac, hostnameHint: "rack3-node9<script>", sourceIp: "10.0.0.9" });
    const rows = await findTakenMacs(t.db, ["52:54:00:bb:00:01"]);
    expect(rows).toHaveLength(1);
    expect(await getHostRow(t.db, rows[0]!.hostId)).toMatchObject({ name: "new-525400bb0001", state: "new", hostnameHint: "rack3-node9script", sourceIp: "10.0.0.9" });
  });

  it("concurrent first boots of one MAC create one host", async () => {
    await Promise.all(Array.from({ length: 10 }, () => answerBootRequest(t.db, { mac: "52:54:00:cc:00:01", sourceIp: "10.0.0.10" })));
    expect(await findTakenMacs(t.db, ["52:54:00:cc:00:01"])).toHaveLength(1);
  });

  it("rate-limits discovery per source address", async () => {
    // The limit, not the commissioning runs that each discovery would otherwise get.
    setTestEnv({ KILN_COMMISSION_ON_DISCOVERY: "false" });
    const before = await countHostsBySourceIp(t.db, "10.9.9.9");
    for (let i = 0; i < 110; i++) {
      const a = await answerBootRequest(t.db, { mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`, sourceIp: "10.9.9.9" });
      expect(a.status).toBe(200);
    }
    expect((await countHostsBySourceIp(t.db, "10.9.9.9")) - before).toBe(100);
  });
});

describe("boot settings, marks and per-deployment files", () => {
  it("the holder chooses templates, marks, and the next boot renders the template; done clears it", async () => {
    const rita = actorOf(users.rita, null);
    await expectAppError(markForReinstall(t.db, rita, ids.host), "validation");
    await updateBootSettings(t.db, rita, ids.host, { systemTemplateId: ids.sys, unattendedTemplateId: ids.un, vars: { disk: "vda" } });
    await expectAppError(updateBootSettings(t.db, rita, ids.host, { systemTemplateId: ids.un }), "validation", /unattended template/);
    await expectAppError(updateBootSettings(t.db, rita, ids.host, { vars: [1, 2] as never }), "validation");

    const { deploymentId } = await markForReinstall(t.db, rita, ids.host);
    await expectAppError(markForReinstall(t.db, rita, ids.host), "conflict", /already marked/);
    const settings = await getBootSettings(t.db, rita, ids.host);
    expect(settings.nextBoot.summary).toContain("Debian 12 netinstall");

    const boot = await answerBootRequest(t.db, { mac: "52-54-00-aa-00-01", sourceIp: "10.0.0.5" });
    const token = deploymentToken(deploymentId);
    expect(boot.body).toMatch(/^#!ipxe/);
    expect(boot.body).toContain(`preseed/url=http://kiln.test/boot/52-54-00-aa-00-01/${token}/unattended`);
    // A reboot half-way is answered with the same run.
    const again = await answerBootRequest(t.db, { mac: MAC, sourceIp: "10.0.0.5" });
    expect(again.body).toBe(boot.body);

    const preseed = await serveDeploymentFile(t.db, { mac: "52-54-00-aa-00-01", token, file: "unattended" });
    expect(preseed.status).toBe(200);
    expect(preseed.body).toContain("d-i partman-auto/disk string /dev/vda");
    expect(preseed.body).toContain("rita@laptop");

    // Token rules: missing file, wrong token, another host's MAC → 404, nothing rendered.
    for (const bad of [
      { mac: MAC, token: "x".repeat(43), file: "unattended" },
      { mac: "52:54:00:aa:00:03", token, file: "unattended" },
      { mac: MAC, token, file: "../../etc/passwd" },
      { mac: MAC, token: "", file: "unattended" },
    ]) {
      const r = await serveDeploymentFile(t.db, bad);
      expect(r.status).toBe(404);
      expect(r.body).not.toContain("d-i");
    }
    // Expired: the same token after its expiry.
    expect((await serveDeploymentFile(t.db, { mac: MAC, token, file: "unattended", now: new Date(Date.now() + 25 * 3600_000) })).status).toBe(404);

    expect((await reportDeploymentFinished(t.db, { mac: MAC, token, outcome: "done" })).status).toBe(200);
    expect((await reportDeploymentFinished(t.db, { mac: MAC, token, outcome: "done" })).body).toBe("already recorded\n");
    expect((await serveDeploymentFile(t.db, { mac: MAC, token, file: "unattended" })).status).toBe(404);
    const after = await answerBootRequest(t.db, { mac: MAC, sourceIp: "10.0.0.5" });
    expect(after.body).toContain("boots from its local disk");
  });

  it("undo clears a mark; others cannot see, mark or preview a host they do not hold", async () => {
    const rita = actorOf(users.rita, null);
    const sam = actorOf(users.sam, null);
    await markForReinstall(t.db, rita, ids.host);
    expect((await undoMark(t.db, rita, ids.host)).nextBoot.mode).toBe("local");
    await expectAppError(getBootSettings(t.db, sam, ids.host), "not_found");
    await expectAppError(markForReinstall(t.db, sam, ids.host), "not_found");
    await expectAppError(updateBootSettings(t.db, sam, ids.host, { vars: {} }), "not_found");
    await expectAppError(previewTemplate(t.db, sam, { hostId: ids.host, templateId: ids.sys }), "not_found");
  });
});

describe("templates as data", () => {
  it("versions, diffs, previews with errors, and keeps private templates private", async () => {
    const rita = actorOf(users.rita, null);
    const sam = actorOf(users.sam, null);
    const tpl = await createTemplate(t.db, rita, { name: "my-ipxe", kind: "system", format: "ipxe", source: "#!ipxe\necho hello {{ host.name }}\n" });
    await expectAppError(createTemplate(t.db, rita, { name: "broken", kind: "system", format: "ipxe", source: "#!ipxe\n{% if %}" }), "validation", /does not parse/);
    const v2 = await saveTemplateVersion(t.db, rita, tpl.id, { source: "#!ipxe\necho hi {{ host.name }} {{ vars.disk|default('sda') }}\nexit\n" });
    expect(v2.version).toBe(2);
    expect((await getTemplate(t.db, rita, tpl.id, 1)).source).toContain("hello");
    expect(await diffTemplateVersions(t.db, rita, tpl.id, 1, 2)).toMatch(/-echo hello[\s\S]*\+echo hi/);

    const ok = await previewTemplate(t.db, rita, { hostId: ids.host, templateId: tpl.id, vars: { disk: "nvme0n1" } });
    expect(ok).toMatchObject({ ok: true, output: "#!ipxe\necho hi pxe-01 nvme0n1\nexit\n", warnings: [], bytes: 35 });
    // What the template could use for this host, with values (the editor's variables panel); the preview's vars included.
    expect(ok.variables).toContainEqual({ name: "host.name", value: "pxe-01", type: "text" });
    expect(ok.variables).toContainEqual({ name: "vars.disk", value: "nvme0n1", type: "text" });
    const bad = await previewTemplate(t.db, rita, { hostId: ids.host, source: "#!ipxe\n{{ vars.a.b }}", format: "ipxe" });
    expect(bad).toMatchObject({ ok: false, error: { line: 2, column: 9, kind: "undefined", message: "vars.a is undefined" } });
    const typo = await previewTemplate(t.db, rita, { hostId: ids.host, source: "#!ipxe\necho {{ host.nmae }}", format: "ipxe" });
    expect(typo).toMatchObject({ ok: false, error: { line: 2, column: 14, message: "host.nmae is undefined — did you mean host.name?", suggestions: ["host.name"] } });
    expect(typo.variables.length).toBeGreaterThan(5);
    const warn = await previewTemplate(t.db, rita, { hostId: ids.host, source: "echo no shebang", format: "ipxe" });
    expect(warn).toMatchObject({ ok: true, warnings: [expect.stringContaining("#!ipxe")] });
    const loop = await previewTemplate(t.db, rita, { hostId: ids.host, source: "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}" });
    expect(loop).toMatchObject({ ok: false, error: { kind: "limit" } });

    await expectAppError(getTemplate(t.db, sam, tpl.id), "not_found");
    expect((await listTemplates(t.db, sam)).some((x) => x.id === tpl.id)).toBe(false);
    await expectAppError(saveTemplateVersion(t.db, rita, ids.sys, { source: "#!ipxe\n" }), "forbidden", /read-only/);
  });

  it("syncing built-ins twice adds nothing", async () => {
    expect(await syncBuiltinTemplates(t.db)).toEqual({ created: 0, updated: 0 });
  });
});
