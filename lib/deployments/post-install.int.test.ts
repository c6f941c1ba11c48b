// Post-install from git, for real short of a VM: a run with a repository is started through the
// API's function, the "machine" fetches its rendered user-data over HTTP from Kiln's boot server,
// the installer reports done, and then the RENDERED runcmd line (Kiln's text, its fixed paths moved
// under a temp root) runs with the host's /bin/sh: it clones from a repository this test serves on
// 127.0.0.1 (git http-backend, and plain files for dumb HTTP), runs the script and streams its
// output to the run's log. Real PostgreSQL, real git, real curl.
import { bootRoutes, FakeMachine, startBootServer } from "@/test/harness/provisioning";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorOf, type Actor } from "@/lib/access/actor";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { countLogs, listLogs } from "@/db/queries/deployments";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import type { RouteServer } from "@/test/harness/http-server";
import { makeRepo, startGitServer, underRoot, type GitServer } from "@/test/harness/git-http";
import { getProcessEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { createTemplate, getTemplate, previewTemplate, saveTemplateVersion } from "@/lib/templates/templates";
import { getDeploymentRow } from "@/db/queries/deployments";
import { loadNextBoot } from "./next-boot";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-post-install-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data") });

let admin: Actor;
let holder: Actor;
let projectId: string;
let server: RouteServer;
let git: GitServer;
let dumb: GitServer;
let templates: { system: string; cloudInit: string; custom?: string };
let sha: string;
let n = 0;

const LINES = 1200;
const SETUP = `#!/bin/sh
echo "hello from the repository, cwd $(basename "$(pwd)")"
i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i + 1)); done
echo "done configuring" >&2
printf '%05000d\n' 7
`;

beforeAll(async () => {
  admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  holder = actorOf((await createActiveUser(t.db)).user, null);
  projectId = (await createProject(t.db, admin, { name: "post-install" })).id;
  await addProjectMember(t.db, admin, projectId, { userId: holder.user!.id });
  await syncBuiltinTemplates(t.db);
  templates = { system: (await getTemplateByBuiltinKey(t.db, "ubuntu-2404-autoinstall"))!.id, cloudInit: (await getTemplateByBuiltinKey(t.db, "cloud-init-basic"))!.id };
  server = await startBootServer();
  setTestEnvDefaults({ KILN_BOOT_URL: server.url });
  const repos = path.join(tmp, "repos");
  await fs.mkdir(repos);
  makeRepo(repos, "setup.git", { "scripts/setup.sh": SETUP, "fail.sh": "echo about to fail\nexit 3\n" });
  sha = makeRepo(repos, "pinned.git", { "setup.sh": "echo pinned commit ran\n" }, "stable");
  git = await startGitServer(repos);
  dumb = await startGitServer(repos, { dumb: true });
});
afterAll(async () => {
  await server?.close();
  await git?.close();
  await dumb?.close();
  await stopJobSender();
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A held host and an install run with `postInstall`, booted by its (fake) machine; the installer then reports done. */
async function installedRun(postInstall: Record<string, unknown>) {
  const mac = `52:54:00:9f:00:${(++n).toString(16).padStart(2, "0")}`;
  const host = await createHost(t.db, admin, { name: `pi-${n}`, interfaces: [{ mac }] });
  await createLease(t.db, admin, { hostIds: [host.id], userId: holder.user!.id, projectId });
  const run = await startDeployment(t.db, holder, host.id, { action: "install", systemTemplateId: templates.system, unattendedTemplateId: templates.cloudInit, postInstall });
  const machine = new FakeMachine(server, mac);
  await machine.boot();
  const userData = await machine.file("user-data");
  expect(userData.status).toBe(200);
  // The installer's late command: done with the install, the run now waits for the first boot.
  expect((await machine.file("done", "POST", "")).status).toBe(200);
  const root = path.join(tmp, `root-${n}`);
  return { host, run, machine, userData: userData.text, root };
}

/** Runs the rendered runcmd line (post-install's), under `root`, with the host's sh. */
function runRendered(userData: string, root: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const doc = parseYaml(userData) as { runcmd: string[][] };
  const [sh, flag, command] = doc.runcmd[0]!;
  expect([sh, flag]).toEqual(["sh", "-c"]);
  const env = { PATH: getProcessEnv().PATH, HOME: root, KILN_STATE_DIR: `${root}/var/lib/kiln`, KILN_ENV_FILE: `${root}/etc/kiln/post-install.env`, KILN_LOG_INTERVAL: "0.2" };
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", underRoot(command!, root)], { env: env as unknown as NodeJS.ProcessEnv, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function agentLines(deploymentId: string): Promise<string[]> {
  return (await listLogs(t.db, { deploymentId, limit: 10_000 })).filter((l) => l.source === "agent").map((l) => l.line);
}

describe("post-install from git (the rendered runner against a real Kiln run)", () => {
  it("clones over smart HTTP, runs the script, streams every line to the run's log in batches, and ends the run done", async () => {
    const { host, run, machine, userData, root } = await installedRun({ gitUrl: `${git.url}/setup.git`, ref: "main", path: "scripts/setup.sh" });
    expect(run.steps.map((s) => s.name)).toEqual(["power_on", "boot", "install", "first_boot"]);
    // While the first boot runs, a network boot boots the installed disk, not the installer again.
    expect(await loadNextBoot(t.db, host.id)).toEqual({ kind: "disk" });
    expect((await getDeployment(t.db, holder, run.id)).state).toBe("running");
    const started = Date.now();
    const r = await runRendered(userData, root);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const lines = await agentLines(run.id);
    expect(lines).toContain("hello from the repository, cwd repo");
    for (const i of [1, 200, 201, LINES]) expect(lines).toContain(`line ${i}`);
    // A 5,000-byte line arrives cut to 3,000 (a batch must stay under the 1 MiB body limit).
    expect(lines).toContain("0".repeat(3000));
    expect(lines.filter((l) => /^line \d+$/.test(l))).toHaveLength(LINES);
    expect(lines).toContain("done configuring");
    expect(lines).toContain("post-install: sh scripts/setup.sh finished (exit status 0)");
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("done");
    expect(view.steps.find((s) => s.name === "first_boot")!.state).toBe("done");
    // The smart protocol served it (a shallow clone: upload-pack over POST).
    expect(git.requests.some((q) => q.startsWith("POST /setup.git/git-upload-pack"))).toBe(true);
    console.log(`post-install runner: clone + ${LINES + 5} lines to the run's log in ${seconds.toFixed(1)} s`);

    // Idempotent: a second start (a reboot, cloud-init again) runs nothing and sends nothing.
    const before = await countLogs(t.db, run.id);
    const again = await runRendered(userData, root);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already ran \(done /);
    expect(await countLogs(t.db, run.id)).toBe(before);
    void machine;
  });

  it("a script that fails ends the run failed with its exit status as the reason, its output in the log", async () => {
    const { host, run, userData, root } = await installedRun({ gitUrl: `${git.url}/setup.git`, ref: "main", path: "fail.sh" });
    const r = await runRendered(userData, root);
    expect(r.code).toBe(1);
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("failed");
    expect(view.failureReason).toMatch(/^First boot of the installed system: post-install: sh fail\.sh \(from http:\/\/127\.0\.0\.1:\d+\/setup\.git at main\) exited with status 3; its output is in this run's log/);
    expect(await agentLines(run.id)).toContain("about to fail");
    // The disk was installed; only the configuration failed: it still boots.
    expect(await loadNextBoot(t.db, host.id)).toEqual({ kind: "disk" });
  });

  it("a ref the repository does not have fails the run naming the clone", async () => {
    const { run, userData, root } = await installedRun({ gitUrl: `${git.url}/setup.git`, ref: "no-such-branch", path: "scripts/setup.sh" });
    expect((await runRendered(userData, root)).code).toBe(1);
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("failed");
    expect(view.failureReason).toContain("git clone of");
    expect(view.failureReason).toContain("at no-such-branch failed");
    expect((await agentLines(run.id)).join("\n")).toMatch(/Remote branch no-such-branch not found/);
  });

  it("a commit id from a dumb-HTTP server (no shallow fetch there): the runner falls back to a full fetch", async () => {
    const { run, userData, root } = await installedRun({ gitUrl: `${dumb.url}/pinned.git`, ref: sha, path: "setup.sh" });
    const r = await runRendered(userData, root);
    expect(r.code, r.stderr).toBe(0);
    const lines = await agentLines(run.id);
    expect(lines).toContain(`post-install: at commit ${sha}`);
    expect(lines).toContain("pinned commit ran");
    expect((await getDeployment(t.db, holder, run.id)).state).toBe("done");
    expect(dumb.requests.some((q) => q.startsWith("GET /pinned.git/info/refs"))).toBe(true);
  });

  it("an unattended template's default repository applies unless the request names another or null; a template that ignores post-install is refused", async () => {
    const custom = await createTemplate(t.db, holder, {
      name: "lab cloud-init with setup",
      kind: "unattended",
      format: "cloud-init",
      source: "#cloud-config\nruncmd:\n{% if deployment.post_install %}\n  - [sh, -c, {{ (deployment.post_install.write_command ~ ' && ' ~ deployment.post_install.run_command)|tojson }}]\n{% endif %}\n",
      postInstall: { gitUrl: `${git.url}/setup.git`, path: "scripts/setup.sh" },
    });
    expect((await getTemplate(t.db, holder, custom.id)).postInstall).toEqual({ gitUrl: `${git.url}/setup.git`, ref: "main", path: "scripts/setup.sh", kind: "script" });
    const held = async () => {
      const mac = `52:54:00:9f:02:${(++n).toString(16).padStart(2, "0")}`;
      const host = await createHost(t.db, admin, { name: `pi-default-${n}`, interfaces: [{ mac }] });
      await createLease(t.db, admin, { hostIds: [host.id], userId: holder.user!.id, projectId });
      return host.id;
    };
    // The editor's preview shows the template's default: its variables and the rendered runner.
    const preview = await previewTemplate(t.db, holder, { hostId: await held(), templateId: custom.id });
    expect(preview.ok && preview.output).toContain("/usr/local/sbin/kiln-post-install");
    expect(preview.variables.find((v) => v.name === "deployment.post_install.git_url")?.value).toBe(`${git.url}/setup.git`);
    const start = async (extra: Record<string, unknown>) => startDeployment(t.db, holder, await held(), { action: "install", systemTemplateId: templates.system, unattendedTemplateId: custom.id, ...extra });
    const byDefault = await start({});
    expect(byDefault.steps.map((s) => s.name)).toContain("first_boot");
    expect((await getDeploymentRow(t.db, byDefault.id))!.options.postInstall).toMatchObject({ path: "scripts/setup.sh", ref: "main" });
    const other = await start({ postInstall: { gitUrl: `${git.url}/setup.git`, ref: "main", path: "fail.sh" } });
    expect((await getDeploymentRow(t.db, other.id))!.options.postInstall).toMatchObject({ path: "fail.sh" });
    const none = await start({ postInstall: null });
    expect(none.steps.map((s) => s.name)).not.toContain("first_boot");
    expect((await getDeploymentRow(t.db, none.id))!.options.postInstall).toBeUndefined();
    // A version saved without it keeps the default; null removes it.
    await saveTemplateVersion(t.db, holder, custom.id, { source: (await getTemplate(t.db, holder, custom.id)).source, message: "same" });
    expect((await getTemplate(t.db, holder, custom.id)).postInstall).toMatchObject({ path: "scripts/setup.sh" });
    await saveTemplateVersion(t.db, holder, custom.id, { source: "#cloud-config\nruncmd: []\n", postInstall: null, message: "none" });
    expect((await getTemplate(t.db, holder, custom.id)).postInstall).toBeNull();
    // A template whose output never runs it: refused before anything starts.
    const e = await start({ postInstall: { gitUrl: `${git.url}/setup.git`, path: "scripts/setup.sh" } }).then(() => null, (err: unknown) => err);
    expect(isAppError(e) && e.status === 400 && /does not run post-install configuration/.test(e.message)).toBe(true);
    // Only unattended templates carry one.
    const sys = await createTemplate(t.db, holder, { name: "sys", kind: "system", format: "ipxe", source: "#!ipxe\nexit\n", postInstall: { gitUrl: "https://x.example/r.git", path: "a.sh" } }).then(() => null, (err: unknown) => err);
    expect(isAppError(sys) && sys.status === 400).toBe(true);
  });

  it("refuses bad repositories, refs, paths and actions with 400s that say why, and starts nothing", async () => {
    const mac = `52:54:00:9f:01:01`;
    const host = await createHost(t.db, admin, { name: "pi-refused", interfaces: [{ mac }] });
    await createLease(t.db, admin, { hostIds: [host.id], userId: holder.user!.id, projectId });
    const base = { action: "install", systemTemplateId: templates.system, unattendedTemplateId: templates.cloudInit };
    const ok = { gitUrl: "https://git.example.org/lab/setup.git", ref: "main", path: "setup.sh" };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, postInstall: { ...ok, gitUrl: "ssh://git@git.example.org/x.git" } }, /http, https or git URL/],
      [{ ...base, postInstall: { ...ok, gitUrl: "file:///etc" } }, /http, https or git URL/],
      [{ ...base, postInstall: { ...ok, gitUrl: "https://user:secret@git.example.org/x.git" } }, /no credentials/],
      [{ ...base, postInstall: { ...ok, gitUrl: "https://git.example.org/a b.git" } }, /no spaces/],
      [{ ...base, postInstall: { ...ok, ref: "main; reboot" } }, /A ref is letters/],
      [{ ...base, postInstall: { ...ok, ref: "--upload-pack=touch" } }, /A ref is letters/],
      [{ ...base, postInstall: { ...ok, ref: "a..b" } }, /not a valid git ref/],
      [{ ...base, postInstall: { ...ok, path: "../../etc/passwd" } }, /stays inside the repository/],
      [{ ...base, postInstall: { ...ok, path: "/etc/passwd" } }, /relative to the repository/],
      [{ ...base, postInstall: { ...ok, kind: "python" } }, /script .* or ansible-playbook/],
      [{ ...base, postInstall: { ...ok, extra: 1 } }, /extra|Unrecognized|unknown/i],
      [{ action: "wipe_disk", postInstall: ok }, /only an install or an image deploy/],
      [{ action: "install", systemTemplateId: templates.system, unattendedTemplateId: null, postInstall: ok }, /needs an unattended template/],
    ];
    for (const [body, message] of cases) {
      const e = await startDeployment(t.db, holder, host.id, body).then(() => null, (err: unknown) => err);
      expect(isAppError(e), JSON.stringify(body)).toBe(true);
      const err = e as { status: number; message: string; details?: unknown };
      expect(err.status, JSON.stringify(body)).toBe(400);
      expect(`${err.message} ${JSON.stringify(err.details ?? {})}`, JSON.stringify(body)).toMatch(message);
    }
    // Nothing was started by any of them.
    expect(await loadNextBoot(t.db, host.id)).toEqual({ kind: "disk" });
  });
});
