// cloud-init for real: Kiln deploys "Debian 12 (cloud image)" (built from Debian's packages by
// scripts/build-cloud-image.sh) to a QEMU machine with the built-in cloud-init template. The
// real ramdisk writes the image, then hands the written system its seed (99-kiln.cfg naming the
// run's NoCloud URL); the machine reboots, Kiln answers "boot the disk", and on first boot
// cloud-init fetches the run's user-data (the holder's SSH key, the host name), runs the run's
// post-install repository (issue 15 item 4: served by this test with git http-backend on
// 127.0.0.1, reached by the guest as 10.0.2.103 through a QEMU guestfwd; restrict=on keeps it off
// anything else), whose output lands in the run's log, and calls done with its addresses. The run
// ends done with no human, and the test logs in with the key. One VM run covers both items: a
// deploy of this image costs minutes under TCG, and CI's budget is shared.
import "@/test/harness/route-handler";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listLogs } from "@/db/queries/deployments";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { addSshKey } from "@/lib/accounts/profile";
import { ensureRamdisk } from "@/lib/boot/ramdisk";
import { listHostAddresses } from "@/lib/hosts/addresses";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { CLOUD_IMAGE_MEMORY_MB, CLOUD_IMAGE_MIN_DISK_MB, ensureDebianCloudImage, freePort, importDebianCloudImage, makeSshKey, sshRun, type DebianCloudImage } from "@/test/harness/debian-cloud-image";
import { setTestEnvDefaults } from "@/test/harness/env";
import { makeRepo, startGitServer, type GitServer } from "@/test/harness/git-http";
import { bootAndRamdiskRoutes, startProvisioningSetup, waitFor as waitUntil, type ProvisioningSetup } from "@/test/harness/provisioning";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { getNextBoot } from "./next-boot";
import { runWorkerSteps } from "./worker";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-cloud-init-"));
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
  setup = await startProvisioningSetup(t.db, { name: "cloud-init", macByte: 0xc1 });
  setTestEnvDefaults({ KILN_BOOT_URL: GUEST_KILN_URL });
  setup.server.setHandler(bootAndRamdiskRoutes);
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

describe("an image deploy with cloud-init", () => {
  it("writes Debian 12 (cloud image), its first boot reads the run's seed, runs the post-install repository and calls done, and the holder logs in with their key", async () => {
    const { holder } = setup;
    const { hostId, name, mac } = await setup.heldHost();
    const key = await makeSshKey(tmp);
    await addSshKey(t.db, holder.user!.id, { publicKey: key.publicKey });
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
    const sshPort = await freePort();
    const bootfile = `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}`;
    const started = Date.now();
    const deployVm = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, memoryMb: 512, bootfile });
    vms.push(deployVm);
    // The agent reports done for the image, then reboots (QEMU exits: -no-reboot).
    const written = await waitUntil("the image written", () => getDeployment(t.db, holder, run.id), (v) => v.state !== "running" || v.steps.some((s) => s.name === "first_boot" && s.state === "running"), 600_000).catch((e) => {
      throw new Error(`${(e as Error).message}\nserial:\n${deployVm.serial().slice(-4000)}`);
    });
    expect(written.state, `${written.failureReason}\n${deployVm.serial().slice(-3000)}`).toBe("running");
    const lines = written.logs.map((l) => l.line);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^cloud-init seed written to \/dev\/vda2 /)]));
    const writtenAt = Date.now();
    console.info(`cloud image (${image.manifest.bytes} bytes zstd, ${image.manifest.rawBytes} raw) written and seeded ${seconds(started)} s after the machine started`);
    await waitFor(async () => deployVm.process.exitCode !== null, 120_000, deployVm, "the machine to reboot (QEMU to exit)");
    // The run is still active, yet the next network boot boots the disk.
    expect(await getNextBoot(t.db, holder, hostId)).toEqual({ kind: "disk" });

    const installed = await startVm({
      mac,
      kilnPort: setup.server.port,
      diskPath: disk,
      memoryMb: CLOUD_IMAGE_MEMORY_MB,
      bootfile,
      sshPort,
      guestForwards: [{ address: GUEST_GIT.address, port: GUEST_GIT.port, hostPort: Number(new URL(git.url).port) }],
    });
    vms.push(installed);
    const view = await waitUntil("the run's end", () => getDeployment(t.db, holder, run.id), (v) => v.state !== "running" && v.state !== "pending", 900_000).catch((e) => {
      throw new Error(`${(e as Error).message}\nserial:\n${installed.serial().slice(-6000)}`);
    });
    expect(view.state, `${view.failureReason}\n${installed.serial().slice(-4000)}`).toBe("done");
    console.info(`first boot to done: ${seconds(writtenAt)} s; deploy start to done: ${seconds(started)} s`);
    expect(view.logs.map((l) => l.line)).toEqual(expect.arrayContaining(["the installer fetched user-data"]));

    // Post-install: the repository's script ran on the first boot and its output is in the log.
    const logLines = (await listLogs(t.db, { deploymentId: run.id, limit: 5000 })).map((l) => `${l.source}: ${l.line}`);
    expect(logLines).toEqual(
      expect.arrayContaining([
        `agent: post-install: fetching http://${GUEST_GIT.address}/lab-setup.git at main, then script setup.sh`,
        expect.stringMatching(new RegExp(`^agent: post-install on ${name}: kernel 6\\.1\\.`)),
        "agent: wrote /etc/kiln-configured",
        "agent: post-install: sh setup.sh finished (exit status 0)",
      ]),
    );
    // The guest really fetched from the test's server, over smart HTTP.
    expect(git.requests.some((q) => q.startsWith("POST /lab-setup.git/git-upload-pack"))).toBe(true);

    // The installed system's addresses, from its done call.
    const addresses = (await listHostAddresses(t.db, [hostId])).get(hostId) ?? [];
    expect(addresses.filter((a) => a.source === "installed").map((a) => a.address)).toContain("10.0.2.15");

    const hostname = await sshRun({ port: sshPort, keyPath: key.privateKeyPath, command: "hostname", timeoutMs: 120_000 });
    console.info(`deploy start to ssh: ${seconds(started)} s`);
    expect(hostname.trim()).toBe(name);
    // The seed stays on the disk for cloud-init's cache, with the run's (now dead) URL.
    const seed = await sshRun({ port: sshPort, keyPath: key.privateKeyPath, command: "cat /etc/cloud/cloud.cfg.d/99-kiln.cfg" });
    expect(seed).toContain(`seedfrom: ${GUEST_KILN_URL}/boot/`);
    expect((await sshRun({ port: sshPort, keyPath: key.privateKeyPath, command: "cat /etc/kiln-configured" })).trim()).toBe("configured");
    await installed.stop();
  }, 2_400_000);
});
