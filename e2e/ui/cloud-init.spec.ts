// From the browser, a researcher reinstalls a lab machine (QEMU, SeaBIOS + iPXE, powered by
// Kiln's qemu driver) with "Debian 12 (cloud image)" and the built-in cloud-init template, and
// later logs in with their own key: the run writes the image, the machine reboots into it,
// cloud-init fetches the run's seed from Kiln and reports done, and the host page shows the
// ssh line. The image is built from Debian's packages (test/harness/debian-cloud-image.ts,
// cached by input hash) and uploaded through the API as an administrator's public image.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { CLOUD_IMAGE_NAME, ensureDebianCloudImage, freePort, makeSshKey, sshRun, type DebianCloudImage } from "../../test/harness/debian-cloud-image";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { uploadVersion } from "../support/images";
import { addMember, createPool, createProject, uniqueName } from "../support/inventory";
import { createLabMachine, registerLabMachine, type LabMachine } from "../support/machines";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

let image: DebianCloudImage;

test.beforeAll(async () => {
  // A cold build takes a few minutes (debootstrap); afterwards it is found in the cache.
  test.setTimeout(1_200_000);
  image = await ensureDebianCloudImage({ log: () => {} });
});

/** The administrators' public "Debian 12 (cloud image)", uploaded once per Kiln (found by name and checksum after that). */
async function publicCloudImage(admin: string): Promise<{ id: string; name: string }> {
  const list = (await api(admin, "GET", `/api/v1/images?q=${encodeURIComponent(CLOUD_IMAGE_NAME)}&per_page=100`)).body.data as { id: string; name: string; visibility: string }[];
  const found: { id: string; name: string } =
    list.find((i) => i.name === CLOUD_IMAGE_NAME && i.visibility === "public") ?? (await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/images", { name: CLOUD_IMAGE_NAME, visibility: "public" }, 201));
  const versions = (await api(admin, "GET", `/api/v1/images/${found.id}/versions`)).body.data as { state: string; sha256: string | null }[];
  if (!versions.some((v) => v.state === "ready" && v.sha256 === image.manifest.sha256)) await uploadVersion(admin, found.id, image.path, { timeoutMs: 300_000 });
  return found;
}

test("[CLOUD-INIT] a researcher reinstalls a lab machine with Debian 12 (cloud image) and logs in with their key", async ({ page }) => {
  test.setTimeout(1_500_000);
  const admin = await adminToken(uniqueName("cloud-init"));
  const { email } = await registerResearcher("cloudinit", 1);
  const pool = await createPool(admin, { name: uniqueName("cloud") });
  const project = await createProject(admin, { name: uniqueName("cloud-proj") });
  const { userId } = await addMember(admin, project.id, email);
  const cloudImage = await publicCloudImage(admin);

  const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-cloud-init-ui-"));
  let machine: LabMachine | null = null;
  try {
    const key = await makeSshKey(work, "researcher@laptop");
    const sshPort = await freePort();
    machine = await createLabMachine({ name: uniqueName("cloud-vm"), mac: "52:54:00:4b:58:01", port: Number(new URL(readState().baseURL).port), diskMb: 3072, memoryMb: 1024, sshPort });
    const host = await registerLabMachine(admin, machine, pool.id);
    await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 2 }, 201);

    await signIn(page, email, PASSWORD);
    await page.goto("/profile");
    await page.getByLabel("Add a public key").fill(key.publicKey);
    await page.getByRole("button", { name: "Add key" }).click();
    await expect(page.getByText("researcher@laptop")).toBeVisible();

    await page.goto(`/hosts/${host.id}`);
    await page.getByRole("button", { name: "Reinstall…" }).click();
    const dialog = page.getByRole("dialog", { name: "Reinstall" });
    await dialog.getByLabel("Deploy an image").check();
    await dialog.getByLabel("Image", { exact: true }).selectOption({ label: CLOUD_IMAGE_NAME });
    await dialog.getByLabel("cloud-init on first boot").selectOption({ label: "cloud-init basics" });
    await dialog.getByRole("button", { name: "Review…" }).click();
    const review = dialog.getByTestId("reinstall-review");
    await expect(review).toContainText(`image “${CLOUD_IMAGE_NAME}”`);
    await expect(review).toContainText("cloud-init with “cloud-init basics”");
    await expect(review).toContainText("cloud-init there fetches its settings from Kiln and reports done");
    await dialog.getByRole("button", { name: "Erase the disk and deploy" }).click();
    await expect(dialog).toBeHidden();
    const started = Date.now();

    const steps = page.getByTestId("run-steps");
    await expect(steps.locator('[data-step="verify"]')).toHaveAttribute("data-state", "done", { timeout: 600_000 });
    await expect(steps.locator('[data-step="first_boot"]')).toHaveAttribute("data-state", "running");
    await expect(page.getByTestId("run-log")).toContainText("cloud-init seed written to /dev/vda2");
    // No human: the machine reboots into the image by itself, and cloud-init there ends the run.
    await expect(steps.locator('[data-step="first_boot"]')).toHaveAttribute("data-state", "done", { timeout: 900_000 });
    await expect(page.getByTestId("provisioning-state")).toHaveText("deployed");
    await expect(page.getByTestId("run-log")).toContainText("the installer fetched user-data");
    console.info(`[CLOUD-INIT] confirm to done: ${((Date.now() - started) / 1000).toFixed(0)} s`);

    // The ssh line, with the address the installed system reported and the template's user.
    await page.reload();
    await expect(page.getByTestId("host-addresses").locator('li[data-source="installed"][data-address="10.0.2.15"]')).toBeVisible();
    await expect(page.getByTestId("ssh-command")).toHaveText("ssh kiln@10.0.2.15");

    // The lab machine's 10.0.2.15:22 is this machine's 127.0.0.1:<sshPort> (QEMU's hostfwd).
    const hostname = await sshRun({ port: sshPort, keyPath: key.privateKeyPath, user: "kiln", command: "hostname", timeoutMs: 120_000 });
    expect(hostname.trim()).toBe(host.name);
    console.info(`[CLOUD-INIT] confirm to ssh: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await machine?.remove();
    await fs.rm(work, { recursive: true, force: true });
  }
});
