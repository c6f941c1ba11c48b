import { createHash, randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { tusCreate, tusPatch } from "../../test/harness/tus";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, randomMac, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

test("[DEPLOY] progress never goes back; a write that fails part-way halts the machine, the host page says why, and the holder can boot the disk anyway", async ({ page }) => {
  const admin = await adminToken(uniqueName("halt-ui"));
  const { email, tokens } = await registerResearcher("halter", 1);
  const token = tokens[0]!;
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  const mac = randomMac();
  const host = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/hosts", { name: uniqueName("halt-node"), poolId: pool.id, interfaces: [{ mac }] }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 4 }, 201);
  const image = await apiOk<{ id: string }>(token, "POST", "/api/v1/images", { name: uniqueName("disk") }, 201);
  const bytes = randomBytes(1024 * 1024);
  const created = await tusCreate(`${readState().baseURL}/api/uploads`, token, bytes.length, { imageId: image.id, filename: "disk.img" });
  expect((await tusPatch(created.location!, token, 0, bytes)).status).toBe(204);
  await expect.poll(async () => (await api(token, "GET", `/api/v1/images/${image.id}/versions`)).body.data?.[0]?.state, { timeout: 30_000 }).toBe("ready");
  const run = await apiOk<{ id: string }>(token, "POST", `/api/v1/hosts/${host.id}/deployments`, { action: "deploy_image", imageId: image.id }, 201);

  // The machine, played over HTTP: it boots the run and its agent starts writing.
  const base = readState().baseURL;
  const dashed = mac.replace(/:/g, "-");
  const bootAnswer = async () => (await fetch(`${base}/boot/${dashed}`)).text();
  const agentToken = /kiln\.token=([A-Za-z0-9_-]+)/.exec(await bootAnswer())?.[1];
  expect(agentToken).toBeTruthy();
  const post = async (file: string, body: unknown) => {
    const res = await fetch(`${base}/boot/${dashed}/${agentToken}/${file}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(res.status, `${file}: ${await res.clone().text()}`).toBe(200);
  };
  expect((await fetch(`${base}/boot/${dashed}/${agentToken}/agent.json`)).status).toBe(200);

  await signIn(page, email, PASSWORD);
  await page.goto(`/hosts/${host.id}`);
  await expect(page.getByTestId("host-next-boot")).toContainText(`Next boot: the run's script (deploy an image, deployment ${run.id}).`);
  const bar = page.getByTestId("deploy-progress");
  await post("progress", { bytes: (bytes.length * 3) / 4, totalBytes: bytes.length, phase: "write" });
  await expect(bar).toHaveAttribute("aria-valuenow", "75");
  // The machine rebooted into the same run: its new agent counts from the start. The bar stays.
  await post("progress", { bytes: bytes.length / 4, totalBytes: bytes.length, phase: "write" });
  await page.waitForTimeout(1000);
  await expect(bar).toHaveAttribute("aria-valuenow", "75");
  await page.reload();
  await expect(page.getByTestId("deploy-progress")).toHaveAttribute("aria-valuenow", "75");

  const sha = createHash("sha256").update(bytes).digest("hex");
  await post("failed", { reason: `checksum mismatch: expected ${sha}, got ${"0".repeat(64)} — the image was corrupted on the way or in storage; the disk was left without a partition table, so it does not boot` });
  expect(await bootAnswer()).toContain("Kiln: the last write to this machine's disk failed or was cancelled: Write the image: checksum mismatch");
  await page.reload();
  const notice = page.getByTestId("host-next-boot");
  await expect(notice).toContainText("Next boot: halts.");
  await expect(notice).toContainText(`The last write to its disk failed (deployment ${run.id}): Write the image: checksum mismatch: expected ${sha}`);
  // The re-check the failure queued finds the stored bytes intact: the version stays ready.
  await expect.poll(async () => (await api(token, "GET", `/api/v1/images/${image.id}/versions/1`)).body.state, { timeout: 5_000 }).toBe("ready");

  await notice.getByRole("button", { name: "Boot the disk anyway" }).click();
  await expect(page.getByTestId("host-next-boot")).toContainText("Next boot: its local disk.");
  expect(await bootAnswer()).toContain("this machine boots from its local disk");
});
