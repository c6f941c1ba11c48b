import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { tusCreate, tusPatch } from "../../test/harness/tus";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, randomMac, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

/** One more version of the image, uploaded with tus and verified by the worker. */
async function uploadVersion(token: string, imageId: string, version: number): Promise<Buffer> {
  const bytes = randomBytes(256 * 1024);
  const created = await tusCreate(`${readState().baseURL}/api/uploads`, token, bytes.length, { imageId, filename: `disk-${version}.img` });
  expect(created.status, created.body).toBe(201);
  expect((await tusPatch(created.location!, token, 0, bytes)).status).toBe(204);
  await expect
    .poll(async () => ((await api(token, "GET", `/api/v1/images/${imageId}/versions`)).body.data as { version: number; state: string }[]).find((v) => v.version === version)?.state, { timeout: 30_000 })
    .toBe("ready");
  return bytes;
}

/** The same canonical JSON the record's sha256 is of: keys sorted at every level, no whitespace. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

test("[RECORDS] a holder opens a run's record from the host page, downloads its JSON, and re-runs it on the same host after reading what changed", async ({ page }) => {
  const admin = await adminToken(uniqueName("records-ui"));
  const { email, tokens } = await registerResearcher("recorder", 1);
  const token = tokens[0]!;
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  const mac = randomMac();
  const host = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/hosts", { name: uniqueName("rec-node"), poolId: pool.id, interfaces: [{ mac }] }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 4 }, 201);

  // A deploy of version 1, cancelled before the machine booted; then version 2 of the image appears.
  const image = await apiOk<{ id: string; name: string }>(token, "POST", "/api/v1/images", { name: uniqueName("exp-disk") }, 201);
  const v1 = await uploadVersion(token, image.id, 1);
  const run = await apiOk<{ id: string; recordId: string }>(token, "POST", `/api/v1/hosts/${host.id}/deployments`, { action: "deploy_image", imageId: image.id, vars: { experiment: "baseline" } }, 201);
  expect(run.recordId).toBeTruthy();
  await apiOk(token, "POST", `/api/v1/deployments/${run.id}/cancel`, undefined, 200);
  await uploadVersion(token, image.id, 2);

  await signIn(page, email, PASSWORD);
  await page.goto(`/hosts/${host.id}`);
  await page.getByTestId("run-record-link").click();
  await expect(page).toHaveURL(new RegExp(`/records/${run.recordId}$`));
  await expect(page.getByRole("heading", { name: `Image deploy on ${host.name}` })).toBeVisible();
  await expect(page.getByTestId("record-image")).toHaveText(`${image.name} v1`);
  await expect(page.getByTestId("record-pins")).toContainText(`sha256 ${createHash("sha256").update(v1).digest("hex")}`);
  await expect(page.getByTestId("record-cmdline")).toContainText("kiln.token=<token> kiln.action=deploy");
  await expect(page.getByTestId("record-outcome")).toContainText("cancelled");

  // Download JSON: the file's sha256 is the one the page shows, and it checks out.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("record-download").click()]);
  expect(download.suggestedFilename()).toBe(`kiln-run-${run.recordId}.json`);
  const file = JSON.parse(await readFile((await download.path())!, "utf8"));
  await expect(page.getByTestId("record-sha256")).toHaveText(`sha256 ${file.recordSha256}`);
  expect(createHash("sha256").update(canonical(file.record)).digest("hex")).toBe(file.recordSha256);
  expect(file.record).toMatchObject({ image: { id: image.id, version: 1 }, vars: { experiment: "baseline" } });

  // Re-run…: the host is chosen, and what differs is said before anything starts.
  await page.getByRole("button", { name: "Re-run…" }).click();
  const dialog = page.getByRole("dialog", { name: "Re-run this record" });
  await expect(dialog.getByLabel(host.name)).toBeChecked();
  const diff = dialog.getByTestId("rerun-diff");
  await expect(diff).toContainText(`If re-run on ${host.name} now`);
  await expect(diff).toContainText(`A newer version of image “${image.name}” exists: v2 (a re-run writes v1, as recorded).`);
  await expect(diff).toContainText(`${host.name}'s hardware matches the record.`);
  await dialog.getByRole("button", { name: "Re-run on 1 host" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("rerun-result")).toContainText(`Re-run started on ${host.name}`);

  // The new run writes version 1, as recorded, and its own record points back.
  const runs = await apiOk<{ data: { id: string; image: { version: number } | null }[] }>(token, "GET", `/api/v1/hosts/${host.id}/deployments`, undefined, 200);
  expect(runs.data).toHaveLength(2);
  expect(runs.data[0]!.image).toMatchObject({ id: image.id, version: 1 });
  const again = await apiOk<{ recordId: string }>(token, "GET", `/api/v1/deployments/${runs.data[0]!.id}`, undefined, 200);
  expect((await apiOk<{ rerunOf: string }>(token, "GET", `/api/v1/records/${again.recordId}`, undefined, 200)).rerunOf).toBe(run.recordId);
  await page.reload();
  await expect(page.getByRole("link", { name: again.recordId })).toBeVisible();
});

test("[RECORDS] a record's permanent URL asks the signed-out to sign in until it is published, then anyone reads it", async ({ browser }) => {
  const admin = await adminToken(uniqueName("records-public"));
  const { email, tokens } = await registerResearcher("publisher", 1);
  const token = tokens[0]!;
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  const host = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/hosts", { name: uniqueName("pub-node"), poolId: pool.id, interfaces: [{ mac: randomMac() }] }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 4 }, 201);
  const tpl = await apiOk<{ id: string }>(token, "POST", "/api/v1/templates", { name: uniqueName("inst"), kind: "system", format: "ipxe", source: "#!ipxe\nkernel http://mirror/linux console=ttyS0\nboot\n" }, 201);
  const run = await apiOk<{ recordId: string }>(token, "POST", `/api/v1/hosts/${host.id}/deployments`, { action: "install", systemTemplateId: tpl.id }, 201);

  const context = await browser.newContext({ baseURL: readState().baseURL });
  const anonymous = await context.newPage();
  await anonymous.goto(`/records/${run.recordId}`);
  await expect(anonymous).toHaveURL(/\/signin\?next=/);
  // A member may read it, but only a leader or an administrator publishes.
  expect((await api(token, "POST", `/api/v1/records/${run.recordId}/publish`)).status).toBe(403);
  await apiOk(admin, "POST", `/api/v1/records/${run.recordId}/publish`, undefined, 200);
  await anonymous.goto(`/records/${run.recordId}`);
  await expect(anonymous.getByRole("heading", { name: `Install on ${host.name}` })).toBeVisible();
  await expect(anonymous.getByTestId("record-cmdline")).toHaveText("http://mirror/linux console=ttyS0");
  await expect(anonymous.getByTestId("record-download")).toBeVisible();
  await expect(anonymous.getByRole("button", { name: "Re-run…" })).toHaveCount(0);
  const json = await anonymous.request.get(`/api/v1/records/${run.recordId}`);
  expect(json.status()).toBe(200);
  await context.close();
});
