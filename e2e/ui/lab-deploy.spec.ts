// A researcher deploys an image to a real (QEMU) lab machine from the browser and watches it:
// the progress bar fills as the deploy agent reports, the host becomes "deployed", and the
// machine boots what was written (its serial console shows the image's marker).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { buildBootableImage } from "../../lab/bootable-image";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { createImage, uploadVersion } from "../support/images";
import { addMember, createPool, createProject, uniqueName } from "../support/inventory";
import { createLabMachine, registerLabMachine, type LabMachine } from "../support/machines";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

test("[LAB] a researcher deploys an uploaded image to a lab machine from the browser and watches it to the end", async ({ page }) => {
  test.setTimeout(300_000);
  const admin = await adminToken(uniqueName("lab-ui"));
  const { email, tokens } = await registerResearcher("labuser", 1);
  const pool = await createPool(admin, { name: uniqueName("lab") });
  const project = await createProject(admin, { name: uniqueName("lab-proj") });
  const { userId } = await addMember(admin, project.id, email);

  const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-lab-ui-"));
  let machine: LabMachine | null = null;
  try {
    // Big enough that the write outlasts a few 5-second progress reports under emulation.
    const marker = `lab-ui-${Date.now().toString(36)}`;
    const file = path.join(work, "lab.img");
    await buildBootableImage({ kernelPath: path.join(readState().dataDir, "ramdisk", "vmlinuz"), outPath: file, marker, sizeMb: 256 });
    const image = await createImage(tokens[0]!, uniqueName("lab-image"));
    await uploadVersion(tokens[0]!, image.id, file);

    machine = await createLabMachine({ name: uniqueName("lab-vm"), mac: "52:54:00:4b:55:01", port: Number(new URL(readState().baseURL).port), diskMb: 320 });
    const host = await registerLabMachine(admin, machine, pool.id);
    await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 2 }, 201);

    await signIn(page, email, PASSWORD);
    await page.goto(`/hosts/${host.id}`);
    await page.getByRole("button", { name: "Reinstall…" }).click();
    const dialog = page.getByRole("dialog", { name: "Reinstall" });
    await dialog.getByLabel("Deploy an image").check();
    await dialog.getByLabel("Image", { exact: true }).selectOption({ label: image.name });
    await dialog.getByRole("button", { name: "Review…" }).click();
    await expect(dialog.getByTestId("reinstall-review")).toContainText(`image “${image.name}”`);
    await dialog.getByRole("button", { name: "Erase the disk and deploy" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("provisioning-state")).toHaveText("deploying");

    // Every value the bar shows, as the page receives the agent's reports live.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { kilnBar: string[] }).kilnBar = seen;
      const note = () => {
        const v = document.querySelector('[data-testid="deploy-progress"]')?.getAttribute("aria-valuenow");
        if (v && seen.at(-1) !== v) seen.push(v);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"] });
    });
    const steps = page.getByTestId("run-steps");
    await expect(steps.locator('[data-step="power_on"]')).toHaveAttribute("data-state", "done", { timeout: 30_000 });
    await expect(steps.locator('[data-step="write"]')).toHaveAttribute("data-state", "running", { timeout: 120_000 });
    await expect(page.getByTestId("provisioning-state")).toHaveText("deployed", { timeout: 150_000 });
    await expect(page.getByTestId("deploy-progress")).toHaveAttribute("aria-valuenow", "100");
    const seen = await page.evaluate(() => (window as unknown as { kilnBar: string[] }).kilnBar);
    expect(seen.at(-1)).toBe("100");
    expect(seen.some((v) => Number(v) > 0 && Number(v) < 100), `bar values seen: ${seen.join(", ")}`).toBe(true);
    for (const s of ["power_on", "boot", "agent", "write", "verify"]) await expect(steps.locator(`[data-step="${s}"]`)).toHaveAttribute("data-state", "done");
    // A full write says the delivered image matches; a write through the image's block map says both checksums match.
    await expect(page.getByTestId("run-log")).toContainText(/sha256 of the delivered image (matches|and of the mapped bytes match)/);

    await expect.poll(() => machine!.serial().includes(`KILN-BOOTED ${marker}`), { timeout: 90_000, message: "the deployed image boots" }).toBe(true);

    // [ACCESS] The ssh line appears after the deploy, with the address the machine reported: the
    // ramdisk prints its DHCP lease on the serial console and its agent sent the same address
    // with the inventory. The boot request reached Kiln from 127.0.0.1 (the lab's guestfwd relay
    // runs on this machine), shown for what it is. Kiln does not know a deployed image's accounts: root, said to be a guess.
    const leased = /kiln-ramdisk: network up on \S+: (\d+\.\d+\.\d+\.\d+)\//.exec(machine!.serial())?.[1];
    expect(leased, "the ramdisk's DHCP address on the serial console").toBeTruthy();
    await page.reload();
    const addresses = page.getByTestId("host-addresses");
    await expect(addresses.locator(`li[data-source="agent"][data-address="${leased}"]`)).toBeVisible();
    await expect(addresses.locator('li[data-source="boot"][data-address="127.0.0.1"]')).toContainText("loopback");
    await expect(page.getByTestId("ssh-command")).toHaveText(`ssh root@${leased}`);
    await expect(page.getByTestId("ssh-note")).toContainText("root is a guess");
    const view = await apiOk(tokens[0]!, "GET", `/api/v1/hosts/${host.id}`, undefined, 200);
    expect(view.host).toMatchObject({ provisioning: { state: "deployed", action: "deploy_image", runState: "done" }, access: { command: `ssh root@${leased}`, addressSource: "agent", userSource: "fallback" } });
  } finally {
    await machine?.remove();
    await fs.rm(work, { recursive: true, force: true });
  }
});
