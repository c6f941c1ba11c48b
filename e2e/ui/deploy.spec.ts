import { createHash, randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { tusCreate, tusPatch } from "../../test/harness/tus";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, randomMac, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

/** The deploy agent on the machine, played over HTTP against the running Kiln. */
class TestAgent {
  token = "";
  constructor(readonly mac: string) {}
  private url(p: string): string {
    return `${readState().baseURL}${p}`;
  }
  async boot(): Promise<void> {
    const script = await (await fetch(this.url(`/boot/${this.mac.replace(/:/g, "-")}`))).text();
    this.token = /kiln\.token=([A-Za-z0-9_-]+)/.exec(script)?.[1] ?? "";
    expect(this.token, script).not.toBe("");
  }
  private path(file: string): string {
    return `/boot/${this.mac.replace(/:/g, "-")}/${this.token}/${file}`;
  }
  async instructions(): Promise<any> {
    const res = await fetch(this.url(this.path("agent.json")));
    expect(res.status).toBe(200);
    return res.json();
  }
  async post(file: string, body: unknown): Promise<void> {
    const res = await fetch(this.url(this.path(file)), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(res.status, `${file}: ${await res.clone().text()}`).toBe(200);
  }
}

test("[DEPLOY] a researcher reinstalls a host from one of their images — one Reinstall entry, a review before anything starts — and follows it live: steps, progress with rate, the end", async ({ page }) => {
  const admin = await adminToken(uniqueName("deploy-ui"));
  const { email, tokens } = await registerResearcher("deployer", 1);
  const token = tokens[0]!;
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  const mac = randomMac();
  const host = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/hosts", { name: uniqueName("deploy-node"), poolId: pool.id, interfaces: [{ mac }] }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 4 }, 201);

  // An image of the researcher's own: uploaded with tus, verified by the worker.
  const image = await apiOk<{ id: string }>(token, "POST", "/api/v1/images", { name: uniqueName("disk") }, 201);
  const bytes = randomBytes(1024 * 1024);
  const created = await tusCreate(`${readState().baseURL}/api/uploads`, token, bytes.length, { imageId: image.id, filename: "disk.img" });
  expect(created.status, created.body).toBe(201);
  expect((await tusPatch(created.location!, token, 0, bytes)).status).toBe(204);
  await expect.poll(async () => (await api(token, "GET", `/api/v1/images/${image.id}/versions`)).body.data?.[0]?.state, { timeout: 30_000 }).toBe("ready");

  await signIn(page, email, PASSWORD);
  await page.goto(`/hosts/${host.id}`);
  await expect(page.getByTestId("provisioning-state")).toHaveText("not provisioned");
  // One way to reinstall: no second card with its own "Mark for reinstall".
  await expect(page.getByRole("button", { name: /reinstall/i })).toHaveCount(1);
  await expect(page.getByText("Network boot", { exact: true })).toHaveCount(0);
  await expect(page.getByTestId("host-next-boot")).toHaveText("Next boot: its local disk.");
  await page.getByRole("button", { name: "Reinstall…" }).click();
  const dialog = page.getByRole("dialog", { name: "Reinstall" });
  await expect(dialog.getByLabel("Deploy an image")).toBeChecked();
  await expect(dialog.getByLabel("Version", { exact: true })).toContainText("version 1");
  await dialog.getByLabel("Mail me when it finishes").check();
  // The first click only reviews: it says what happens to the machine, and nothing has started.
  await dialog.getByRole("button", { name: "Review…" }).click();
  const review = dialog.getByTestId("reinstall-review");
  await expect(review).toContainText(`Kiln cannot restart ${host.name} (manual power): it boots it the next time it network-boots`);
  await expect(review).toContainText("Its disk is overwritten with image");
  await expect(review).toContainText("Everything on it now is lost.");
  expect((await apiOk<{ data: unknown[] }>(token, "GET", `/api/v1/hosts/${host.id}/deployments`, undefined, 200)).data).toHaveLength(0);
  // Back keeps the choices; the confirm starts it.
  await dialog.getByRole("button", { name: "Back" }).click();
  await expect(dialog.getByLabel("Mail me when it finishes")).toBeChecked();
  await dialog.getByRole("button", { name: "Review…" }).click();
  await dialog.getByRole("button", { name: "Erase the disk and deploy" }).click();
  await expect(dialog).toBeHidden();

  // The worker powers the machine (manual driver: it asks the holder) and the run waits for the boot.
  await expect(page.getByTestId("provisioning-state")).toHaveText("deploying");
  const steps = page.getByTestId("run-steps");
  await expect(steps.locator('[data-step="power_on"]')).toHaveAttribute("data-state", "done");
  await expect(steps.locator('[data-step="boot"]')).toHaveAttribute("data-state", "running");
  await expect(page.getByTestId("step-message-power_on")).toContainText("Power-cycle the machine by hand now");

  const agent = new TestAgent(mac);
  await agent.boot();
  await expect(steps.locator('[data-step="agent"]')).toHaveAttribute("data-state", "running");
  const params = await agent.instructions();
  expect(params.image).toMatchObject({ sizeBytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
  await expect(steps.locator('[data-step="write"]')).toHaveAttribute("data-state", "running");
  await agent.post("log", { lines: ["writing to /dev/vda"] });
  await expect(page.getByTestId("run-log")).toContainText("writing to /dev/vda");

  const bar = page.getByTestId("deploy-progress");
  await agent.post("progress", { bytes: bytes.length / 4, totalBytes: bytes.length, rate: 50_000_000 });
  await expect(bar).toHaveAttribute("aria-valuenow", "25");
  await expect(page.getByTestId("deploy-progress-text")).toContainText("50 MB/s");
  await agent.post("progress", { bytes: (bytes.length * 3) / 4, totalBytes: bytes.length, rate: 50_000_000 });
  await expect(bar).toHaveAttribute("aria-valuenow", "75");
  await agent.post("progress", { bytes: bytes.length, totalBytes: bytes.length, phase: "verify" });
  await expect(bar).toHaveAttribute("aria-valuenow", "100");
  await expect(steps.locator('[data-step="verify"]')).toHaveAttribute("data-state", "running");
  await agent.post("done", { bytes: bytes.length });

  await expect(page.getByTestId("provisioning-state")).toHaveText("deployed");
  await expect(page.getByTestId("toast")).toContainText(`${host.name}: the run finished`);
  for (const s of ["power_on", "boot", "agent", "write", "verify"]) await expect(steps.locator(`[data-step="${s}"]`)).toHaveAttribute("data-state", "done");
  // All of it arrived live: the page was never reloaded. A reload shows the same end, and
  // the dashboard's lease card says it in a word.
  await page.reload();
  await expect(page.getByTestId("provisioning-state")).toHaveText("deployed");
  await page.goto("/");
  await expect(page.getByTestId("run-badge")).toHaveText("run: deployed");
});

test("[DEPLOY] a run whose machine reports a failure shows why; the researcher retries it, then cancels it with one confirmed Cancel, and the lease stays active", async ({ page }) => {
  const admin = await adminToken(uniqueName("deploy-fail"));
  const { email } = await registerResearcher("deployfail", 0);
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  const mac = randomMac();
  const host = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/hosts", { name: uniqueName("fail-node"), poolId: pool.id, interfaces: [{ mac }] }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 4 }, 201);

  await signIn(page, email, PASSWORD);
  await page.goto(`/hosts/${host.id}`);
  await page.getByRole("button", { name: "Reinstall…" }).click();
  const dialog = page.getByRole("dialog", { name: "Reinstall" });
  await dialog.getByLabel("Wipe the disks").check();
  await dialog.getByRole("button", { name: "Review…" }).click();
  await expect(dialog.getByTestId("reinstall-review")).toContainText("The disks' signatures, partition tables and both ends are erased.");
  await dialog.getByRole("button", { name: "Wipe the disks" }).click();
  await expect(page.getByTestId("run-steps").locator('[data-step="boot"]')).toHaveAttribute("data-state", "running");

  const agent = new TestAgent(mac);
  await agent.boot();
  await agent.instructions();
  await agent.post("failed", { reason: "disk /dev/sdz not found" });
  await expect(page.getByTestId("provisioning-state")).toHaveText("failed");
  await expect(page.getByTestId("run-failure")).toHaveText("Wipe the disks: disk /dev/sdz not found");
  await expect(page.getByTestId("toast")).toContainText("failed: Wipe the disks: disk /dev/sdz not found");

  await page.getByRole("button", { name: "Retry" }).click();
  await expect(page.getByTestId("provisioning-state")).toHaveText("wiping");
  await expect(page.getByTestId("host-next-boot")).toContainText("Next boot: the run's script (wipe the disks");
  // One Cancel for the run (no "Undo the mark" beside it), and it asks first, saying what happens to the machine.
  await expect(page.getByRole("button", { name: /cancel run|undo the mark/i })).toHaveCount(1);
  await page.getByRole("button", { name: "Cancel run…" }).click();
  const confirm = page.getByRole("dialog", { name: `Cancel the run on ${host.name}?` });
  await expect(confirm.getByTestId("cancel-consequences")).toContainText("Kiln cannot switch the machine off (manual power)");
  await expect(confirm.getByTestId("cancel-consequences")).toContainText("the machine will boot its local disk next time");
  await expect(confirm.getByTestId("cancel-consequences")).toContainText("Your lease is not affected.");
  await confirm.getByRole("button", { name: "Keep it running" }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId("provisioning-state")).toHaveText("wiping");
  await page.getByRole("button", { name: "Cancel run…" }).click();
  await confirm.getByRole("button", { name: "Cancel the run" }).click();
  await expect(page.getByTestId("provisioning-state")).toHaveText("cancelled");
  await expect(page.getByTestId("host-next-boot")).toHaveText("Next boot: its local disk.");
  // The run was cancelled, not the lease: the dashboard says which is which.
  await page.goto("/");
  await expect(page.getByTestId("run-badge")).toHaveText("run: cancelled");
  await expect(page.getByTestId("lease-state")).toHaveText("lease: active");
});
