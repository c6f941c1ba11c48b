// Post-install from git, end to end in QEMU: Kiln deploys "Debian 12 (cloud image)" with the
// built-in cloud-init template and a repository this test serves (git http-backend on 127.0.0.1,
// reached by the guest as 10.0.2.103 through a QEMU guestfwd; restrict=on keeps it off anything
// else). On its first boot the installed system's cloud-init runs Kiln's runner, which clones the
// repository, runs its script and sends the script's output to the run's log; the run ends done.
// Uses test/harness/debian-cloud-image.ts (the cloud-init helper's image, cached by input hash).
import "@/test/harness/route-handler";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ramdiskRoute from "@/app/boot/ramdisk/[file]/route";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { listLogs } from "@/db/queries/deployments";
import { ensureRamdisk } from "@/lib/boot/ramdisk";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { CLOUD_IMAGE_MEMORY_MB, CLOUD_IMAGE_MIN_DISK_MB, ensureDebianCloudImage, importDebianCloudImage, type DebianCloudImage } from "@/test/harness/debian-cloud-image";
import { setTestEnvDefaults } from "@/test/harness/env";
import { makeRepo, startGitServer, type GitServer } from "@/test/harness/git-http";
import { bootRoutes, startProvisioningSetup, waitFor as waitUntil, type ProvisioningSetup } from "@/test/harness/provisioning";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { getDeployment, startDeployment } from "./deployments";
import { runWorkerSteps } from "./worker";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-post-install-qemu-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_RAMDISK_DIR: path.join(tmp, "ramdisk") });
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
/** Where the guest finds the test's git server (a guestfwd to its loopback port). */
const GUEST_GIT = { address: "10.0.2.103", port: 80 };

let setup: ProvisioningSetup;
let image: DebianCloudImage;
let git: GitServer;
const vms: Vm[] = [];

beforeAll(async () => {
  await ensureRamdisk({ dir: path.join(tmp, "ramdisk"), log: () => {} });
  image = await ensureDebianCloudImage();
  setup = await startProvisioningSetup(t.db, { name: "post-install", macByte: 0x9e });
  setTestEnvDefaults({ KILN_BOOT_URL: GUEST_KILN_URL });
  setup.server.setHandler(async (req) => {
    const parts = new URL(req.url).pathname.split("/").filter(Boolean);
    if (parts[0] === "boot" && parts[1] === "ramdisk" && parts.length === 3) {
      const handler = (ramdiskRoute as unknown as Record<string, (r: Request, c: unknown) => Promise<Response>>)[req.method];
      return handler ? handler(req, { params: Promise.resolve({ file: parts[2]! }) }) : new Response("method not allowed", { status: 405 });
    }
    return bootRoutes(req);
  });
  const repos = path.join(tmp, "repos");
  await fs.mkdir(repos);
  makeRepo(repos, "lab-setup.git", {
    "setup.sh": '#!/bin/sh\nset -e\necho "post-install on $(hostname): kernel $(uname -r)"\necho configured > /etc/kiln-configured\necho "wrote /etc/kiln-configured"\n',
  });
  git = await startGitServer(repos);
}, 1_800_000);

afterAll(async () => {
  await Promise.all(vms.map((v) => v.stop()));
  await setup?.close();
  await git?.close();
  await stopJobSender();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("post-install from git in a real VM", () => {
  it("the deployed Debian's first boot clones the repository, runs its script, and the output is in the run's log", async () => {
    const { holder } = setup;
    const { hostId, name, mac } = await setup.heldHost();
    const { imageId } = await importDebianCloudImage(t.db, image);
    const template = (await getTemplateByBuiltinKey(t.db, "cloud-init-basic"))!;
    const run = await startDeployment(t.db, holder, hostId, {
      action: "deploy_image",
      imageId,
      unattendedTemplateId: template.id,
      disk: "vda",
      postInstall: { gitUrl: `http://${GUEST_GIT.address}/lab-setup.git`, ref: "main", path: "setup.sh", kind: "script" },
    });
    expect(run.steps.map((s) => s.name)).toEqual(["power_on", "boot", "agent", "write", "verify", "first_boot"]);
    await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });

    const disk = path.join(tmp, "disk.raw");
    await fs.writeFile(disk, "");
    await fs.truncate(disk, CLOUD_IMAGE_MIN_DISK_MB * 1024 * 1024);
    const bootfile = `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}`;
    const started = Date.now();
    const deployVm = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, memoryMb: 512, bootfile });
    vms.push(deployVm);
    await waitUntil("the image written", () => getDeployment(t.db, holder, run.id), (v) => v.state !== "running" || v.steps.some((s) => s.name === "first_boot" && s.state === "running"), 600_000).catch((e) => {
      throw new Error(`${(e as Error).message}\nserial:\n${deployVm.serial().slice(-4000)}`);
    });
    await waitFor(async () => deployVm.process.exitCode !== null, 120_000, deployVm, "the machine to reboot (QEMU to exit)");
    const writtenAt = Date.now();

    const installed = await startVm({
      mac,
      kilnPort: setup.server.port,
      diskPath: disk,
      memoryMb: CLOUD_IMAGE_MEMORY_MB,
      bootfile,
      guestForwards: [{ address: GUEST_GIT.address, port: GUEST_GIT.port, hostPort: Number(new URL(git.url).port) }],
    });
    vms.push(installed);
    const view = await waitUntil("the run's end", () => getDeployment(t.db, holder, run.id), (v) => v.state !== "running" && v.state !== "pending", 900_000).catch((e) => {
      throw new Error(`${(e as Error).message}\nserial:\n${installed.serial().slice(-6000)}`);
    });
    const lines = (await listLogs(t.db, { deploymentId: run.id, limit: 5000 })).map((l) => `${l.source}: ${l.line}`);
    expect(view.state, `${view.failureReason}\n${lines.join("\n")}\n${installed.serial().slice(-4000)}`).toBe("done");
    console.info(`post-install: first boot to done ${seconds(writtenAt)} s; deploy start to done ${seconds(started)} s`);
    expect(lines).toEqual(
      expect.arrayContaining([
        `agent: post-install: fetching http://${GUEST_GIT.address}/lab-setup.git at main, then script setup.sh`,
        expect.stringMatching(new RegExp(`^agent: post-install on ${name}: kernel 6\\.1\\.`)),
        "agent: wrote /etc/kiln-configured",
        "agent: post-install: sh setup.sh finished (exit status 0)",
      ]),
    );
    // The guest really fetched from the test's server, over smart HTTP.
    expect(git.requests.some((q) => q.startsWith("POST /lab-setup.git/git-upload-pack"))).toBe(true);
    expect(view.steps.find((s) => s.name === "first_boot")!.state).toBe("done");
    await installed.stop();
  }, 2_400_000);
});
