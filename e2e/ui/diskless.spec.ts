import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { buildDisklessRootImage } from "../../test/harness/diskless-image";
import { tusCreate, tusPatch } from "../../test/harness/tus";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, randomMac, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

// Diskless boot from the host page (docs/diskless.md); the machine is played over HTTP (its boot
// answer, its done report). A real machine booting the root: lib/diskless/qemu-diskless.int.test.ts.
test("[DISKLESS] a researcher boots a version diskless from the Reinstall dialog; the worker exports the root; Next boot says diskless; capture a new version, discard changes, then release", async ({ page }) => {
  const admin = await adminToken(uniqueName("diskless-ui"));
  const { email, tokens } = await registerResearcher("diskless", 1);
  const token = tokens[0]!;
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  const mac = randomMac();
  const host = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/hosts", { name: uniqueName("diskless-node"), poolId: pool.id, interfaces: [{ mac }] }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 4 }, 201);

  // A root image (MBR + ext4 with /sbin/init), uploaded with tus and verified by the worker.
  const file = path.join(os.tmpdir(), `kiln-e2e-diskless-${process.pid}.img`);
  await buildDisklessRootImage(file, 16);
  const bytes = await readFile(file);
  await rm(file, { force: true });
  const image = await apiOk<{ id: string }>(token, "POST", "/api/v1/images", { name: uniqueName("root") }, 201);
  const created = await tusCreate(`${readState().baseURL}/api/uploads`, token, bytes.length, { imageId: image.id, filename: "root.img" });
  expect(created.status, created.body).toBe(201);
  expect((await tusPatch(created.location!, token, 0, bytes)).status).toBe(204);
  await expect.poll(async () => (await api(token, "GET", `/api/v1/images/${image.id}/versions`)).body.data?.[0]?.state, { timeout: 30_000 }).toBe("ready");

  await signIn(page, email, PASSWORD);
  await page.goto(`/hosts/${host.id}`);
  await page.getByRole("button", { name: "Reinstall…" }).click();
  const dialog = page.getByRole("dialog", { name: "Reinstall" });
  await expect(dialog.getByLabel("Deploy an image")).toBeChecked();
  await dialog.getByTestId("boot-diskless").check();
  await dialog.getByRole("button", { name: "Review…" }).click();
  await expect(dialog.getByTestId("reinstall-review")).toContainText("nothing is written to its disk");
  await dialog.getByRole("button", { name: "Boot diskless" }).click();
  await expect(dialog).toBeHidden();

  // The worker exports the root (sync-diskless-exports); the holder never sees the export's name.
  await expect.poll(async () => (await api(token, "GET", `/api/v1/hosts/${host.id}/diskless`)).body.root?.exported, { timeout: 30_000 }).toBe(true);
  const steps = page.getByTestId("run-steps");
  await expect(steps.locator('[data-step="root"]')).toHaveCount(1);

  // The machine network-boots: the run's script, with the NBD address set in front of it.
  const dashed = mac.replace(/:/g, "-");
  const script = await (await fetch(`${readState().baseURL}/boot/${dashed}`)).text();
  expect(script).toMatch(/^#!ipxe\nset kiln_nbd [^ ]+:\d+\/[A-Za-z0-9_-]{32}\n/);
  expect(script).toContain("kiln.action=diskless kiln.nbd=${kiln_nbd}");
  const runToken = /kiln\.token=([A-Za-z0-9_-]+)/.exec(script)?.[1] ?? "";
  expect(runToken).not.toBe("");
  // The ramdisk mounted the root and says so: the run ends, and the next boot is the root again.
  const done = await fetch(`${readState().baseURL}/boot/${dashed}/${runToken}/done`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(done.status, await done.text()).toBe(200);
  await expect(steps.locator('[data-step="root"]')).toHaveAttribute("data-state", "done");
  await page.reload();
  await expect(page.getByTestId("host-next-boot")).toContainText("Next boot: diskless");
  const again = await (await fetch(`${readState().baseURL}/boot/${dashed}`)).text();
  expect(again).toContain("set kiln_nbd ");
  expect(again).toContain("kiln.token= ");

  // Capture: the root (base + changes) becomes the image's next version, ready at once; a note too
  // long is refused under its field first.
  await page.getByTestId("diskless-capture").click();
  const capture = page.getByRole("dialog", { name: "Capture as a new image version" });
  await expect(capture.getByLabel("Into image")).toHaveValue(image.id);
  const note = capture.getByLabel("Note (optional)");
  await note.fill("x".repeat(2001));
  await capture.getByRole("button", { name: "Capture", exact: true }).click();
  await expect(note).toHaveAttribute("aria-invalid", "true");
  await note.fill("captured by the [DISKLESS] e2e");
  await capture.getByRole("button", { name: "Capture", exact: true }).click();
  await expect(capture.getByTestId("diskless-capture-done")).toContainText("version 2 of");
  await expect(capture.getByRole("link", { name: "Open version 2" })).toHaveAttribute("href", `/images/${image.id}/versions/2`);
  const versions = (await api(token, "GET", `/api/v1/images/${image.id}/versions`)).body.data as { version: number; state: string; notes: string | null }[];
  expect(versions.find((v) => v.version === 2)).toMatchObject({ state: "ready", notes: "captured by the [DISKLESS] e2e" });
  await capture.getByRole("button", { name: "Close", exact: true }).first().click();
  await expect(capture).toBeHidden();

  await page.getByTestId("diskless-reinstall").click();
  await expect(page.getByTestId("host-next-boot")).toContainText("discarded last on");
  await page.getByTestId("diskless-release").click();
  await expect(page.getByTestId("host-next-boot")).toHaveText("Next boot: its local disk.");
  expect((await api(token, "GET", `/api/v1/hosts/${host.id}/diskless`)).body).toEqual({ root: null });
});
