import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { adminToken, apiOk, connectDatabase, registerResearcher } from "../support/api";
import { createHost, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

// Random bytes do not compress, so the upload moves every byte. 40 MB through Chromium's
// upload throttle at 8 MB/s takes about 5 s: long enough to pause (and reload) in the middle
// on a 2-core machine, short enough for the suite. The real chunk size (64 MiB) is kept, so
// the whole file goes in one PATCH and a pause cuts that request part-way, as it would for a
// person on a slow link.
const FILE_BYTES = 40 * 1000 * 1000;
const UPLOAD_BYTES_PER_SECOND = 8 * 1000 * 1000;

let dir: string;
let file: string;
let sha256: string;

test.beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-images-ui-"));
  file = path.join(dir, "disk.img");
  const bytes = randomBytes(FILE_BYTES);
  await fs.writeFile(file, bytes);
  sha256 = createHash("sha256").update(bytes).digest("hex");
});

const cleanups: (() => Promise<void>)[] = [];
test.afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

test.afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Chromium's own network throttling, so the upload is slow enough to interrupt. */
async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
}

/**
 * A TCP relay in front of Kiln whose open connections can be cut, as a flaky Wi-Fi or a
 * proxy restart would. Records the first line of each request it relays. (Cookies are not
 * per port, so the session works through it.)
 */
async function startRelay() {
  const target = new URL(readState().baseURL);
  const sockets = new Set<net.Socket>();
  const requests: string[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    client.on("data", (chunk: Buffer) => {
      const line = chunk.subarray(0, 200).toString("latin1").split("\r\n")[0]!;
      if (/^[A-Z]+ \/\S* HTTP\/1\.1$/.test(line)) requests.push(line);
    });
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests,
    /** Cuts every open connection (the relay keeps listening for new ones). */
    drop: () => sockets.forEach((s) => s.destroy()),
    close: () => new Promise<void>((resolve) => {
      sockets.forEach((s) => s.destroy());
      server.close(() => resolve());
    }),
  };
}

async function uploadedBytes(page: Page): Promise<number> {
  return Number(await page.getByRole("progressbar").getAttribute("aria-valuenow"));
}

async function createImage(page: Page, name: string): Promise<string> {
  await page.goto("/images");
  await page.getByRole("button", { name: "New image" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Description").fill("Debian 12 with the lab's HPC stack");
  await page.getByRole("button", { name: "Create image" }).click();
  await page.waitForURL(/\/images\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(name);
  return page.url().split("/").pop()!;
}

test("[IMAGES] a researcher uploads a file with the progress bar, pauses, resumes, and sees the version ready with its sha256", async ({ page }) => {
  const { email } = await registerResearcher("imager", 0);
  await signIn(page, email, PASSWORD);
  const name = uniqueName("debian-hpc");
  const imageId = await createImage(page, name);
  // The rest goes through a relay whose connections the test cuts later on.
  const relay = await startRelay();
  cleanups.push(relay.close);
  await page.goto(`${relay.origin}/images/${imageId}`);
  await throttleUploads(page, UPLOAD_BYTES_PER_SECOND);

  await page.getByLabel("Image file").setInputFiles(file);
  await page.getByLabel("Notes (optional)").fill("first build");
  await page.getByRole("button", { name: /^Upload 40 MB$/ }).click();

  // Progress with a speed and an ETA.
  await expect.poll(() => uploadedBytes(page)).toBeGreaterThan(FILE_BYTES * 0.15);
  await expect(page.getByTestId("upload-speed")).toHaveText(/\/s$/);
  await expect(page.getByTestId("upload-progress")).toContainText("left");
  // The version exists while its bytes arrive.
  await expect(page.getByTestId("version-row-1").getByTestId("version-state")).toHaveText("uploading…");

  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByTestId("upload-status")).toHaveText("Paused");
  const pausedAt = await uploadedBytes(page);
  expect(pausedAt).toBeLessThan(FILE_BYTES);
  await page.waitForTimeout(1500);
  expect(await uploadedBytes(page), "the progress bar stands still while paused").toBe(pausedAt);
  // The server kept what arrived before the pause: the upload's offset is past zero.
  const versions = await page.request.get(`/api/v1/images/${imageId}/versions`);
  const { data } = (await versions.json()) as { data: { version: number; state: string; uploadUrl: string | null }[] };
  expect(data).toHaveLength(1);
  const head = await page.request.head(data[0]!.uploadUrl!, { headers: { "Tus-Resumable": "1.0.0" } });
  expect(head.status()).toBe(200);
  const stored = Number(head.headers()["upload-offset"]);
  expect(stored).toBeGreaterThan(FILE_BYTES * 0.1);
  expect(stored).toBeLessThan(FILE_BYTES);

  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.getByTestId("upload-status")).toHaveText("Uploading");
  await expect.poll(() => uploadedBytes(page)).toBeGreaterThan(pausedAt + FILE_BYTES * 0.05);

  // The connection drops mid-request: the client asks the server for its offset (HEAD) and
  // goes on from there by itself.
  const before = relay.requests.length;
  relay.drop();
  await expect(page.getByTestId("upload-status")).toHaveText("Uploaded", { timeout: 30_000 });
  const after = relay.requests.slice(before);
  expect(after.find((r) => r.startsWith("HEAD /api/uploads/")), `requests after the drop: ${after.join(" | ")}`).toBeTruthy();
  expect(after.filter((r) => r.startsWith("POST /api/uploads"))).toHaveLength(0);
  expect(await uploadedBytes(page)).toBe(FILE_BYTES);
  // Resumed, not started again: still one version.
  await expect(page.getByTestId("version-row-2")).toHaveCount(0);

  // The version turns from uploading/verifying to ready by itself (polling), with the file's sha256.
  const row = page.getByTestId("version-row-1");
  await expect(row.getByTestId("version-state")).toHaveText("ready", { timeout: 30_000 });
  await expect(row.getByTestId("version-sha256-short")).toHaveText(`${sha256.slice(0, 12)}…`);
  await expect(row).toContainText("first build");
  await expect(row).toContainText("40 MB");

  await row.getByRole("link", { name: "v1" }).click();
  await page.waitForURL(`**/images/${imageId}/versions/1`);
  await expect(page.getByTestId("version-sha256")).toHaveText(sha256);
  await expect(page.getByTestId("curl-command")).toContainText(`/images/${imageId}/versions/1/blob`);
  const blob = await page.request.get(`/images/${imageId}/versions/1/blob`, { headers: { range: "bytes=0-15" } });
  expect(blob.status()).toBe(206);
  expect(Buffer.from(await blob.body())).toEqual((await fs.readFile(file)).subarray(0, 16));

  // The list shows the image with its latest ready version.
  await page.goto(`/images?q=${encodeURIComponent(name)}`);
  const listed = page.getByTestId("image-row").filter({ hasText: name });
  await expect(listed).toContainText("v1");
  await expect(listed).toContainText("40 MB");
  await expect(listed).toContainText("private");
});

test("[IMAGES] an upload interrupted by a page reload resumes from the server's offset when the same file is chosen again", async ({ page }) => {
  const { email } = await registerResearcher("imager", 0);
  await signIn(page, email, PASSWORD);
  const imageId = await createImage(page, uniqueName("reload"));
  await throttleUploads(page, UPLOAD_BYTES_PER_SECOND);

  await page.getByLabel("Image file").setInputFiles(file);
  await page.getByRole("button", { name: /^Upload 40 MB$/ }).click();
  await expect.poll(() => uploadedBytes(page)).toBeGreaterThan(FILE_BYTES * 0.3);

  // Leaving mid-upload asks first (beforeunload); the person confirms.
  page.on("dialog", (dialog) => void dialog.accept());
  await page.reload();
  await expect(page.getByText(/An upload of disk\.img stopped at .* of 40 MB/)).toBeVisible();

  await page.getByLabel("Image file").setInputFiles(file);
  const offer = page.getByTestId("previous-upload");
  await expect(offer).toContainText(/Resume previous upload of disk\.img \(.+ of 40 MB\)/);
  await page.getByRole("button", { name: "Resume upload" }).click();
  // It continues from where the server stopped, not from zero.
  expect(await uploadedBytes(page)).toBeGreaterThan(FILE_BYTES * 0.1);
  await expect(page.getByTestId("upload-status")).toHaveText("Uploaded", { timeout: 30_000 });

  const row = page.getByTestId("version-row-1");
  await expect(row.getByTestId("version-state")).toHaveText("ready", { timeout: 30_000 });
  await page.goto(`/images/${imageId}/versions/1`);
  await expect(page.getByTestId("version-sha256")).toHaveText(sha256);
});

/** A tiny disk image with one MBR partition (Kiln detects the format from these bytes). */
function mbrDisk(size: number): Buffer {
  const disk = randomBytes(size);
  disk.fill(0, 0, 512);
  const entry = 446;
  disk[entry] = 0x80; // bootable
  disk[entry + 4] = 0x83; // Linux
  disk.writeUInt32LE(1, entry + 8); // first sector
  disk.writeUInt32LE(size / 512 - 1, entry + 12); // sectors
  disk[510] = 0x55;
  disk[511] = 0xaa;
  return disk;
}

/** A plain tus upload with a token, as a script would do it (creation, then one PATCH). */
async function tusUpload(token: string, imageId: string, filename: string, bytes: Buffer): Promise<void> {
  const b64 = (v: string) => Buffer.from(v).toString("base64");
  const base = readState().baseURL;
  const created = await fetch(`${base}/api/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "tus-resumable": "1.0.0", "upload-length": String(bytes.length), "upload-metadata": `imageId ${b64(imageId)},filename ${b64(filename)}` },
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const patched = await fetch(new URL(created.headers.get("location")!, `${base}/api/uploads`), {
    method: "PATCH",
    headers: { authorization: `Bearer ${token}`, "tus-resumable": "1.0.0", "upload-offset": "0", "content-type": "application/offset+octet-stream" },
    body: new Uint8Array(bytes),
  });
  expect(patched.status).toBe(204);
}

test("[IMAGES] the owner edits notes, sees the deployment using a version, cannot delete it while it runs (409 shown), then deletes it and the image", async ({ page }) => {
  const admin = await adminToken(uniqueName("images-ui"));
  const { email, tokens } = await registerResearcher("imager", 1);
  const token = tokens[0]!;
  const host = await createHost(admin, { name: uniqueName("img-node") });
  const name = uniqueName("ubuntu");
  const image = await apiOk<{ id: string }>(token, "POST", "/api/v1/images", { name, description: "" }, 201);
  await tusUpload(token, image.id, "ubuntu.raw", mbrDisk(256 * 1024));
  await expect.poll(async () => (await apiOk<{ state: string }>(token, "GET", `/api/v1/images/${image.id}/versions/1`, undefined, 200)).state, { timeout: 30_000 }).toBe("ready");

  // A deploy_image run of version 1 is under way (the provisioning issue makes these; here, the row).
  const sql = await connectDatabase();
  let deploymentId: string;
  try {
    const [user] = await sql<{ id: string }[]>`select id from users where email = ${email}`;
    const [row] = await sql<{ id: string }[]>`
      insert into deployments (host_id, user_id, action, state, image_id, image_version, token_hash, token_expires_at)
      values (${host.id}, ${user!.id}, 'deploy_image', 'running', ${image.id}, 1, ${randomBytes(32).toString("hex")}, now() + interval '1 hour')
      returning id`;
    deploymentId = row!.id;
  } finally {
    await sql.end();
  }

  await signIn(page, email, PASSWORD);
  await page.goto(`/images/${image.id}/versions/1`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`${name} version 1`);
  await expect(page.getByTestId("version-format")).toHaveText("raw disk (MBR)");
  await expect(page.getByTestId("used-by")).toContainText(host.name);
  await expect(page.getByTestId("used-by")).toContainText("running");

  await page.getByRole("button", { name: "Edit notes" }).click();
  await page.getByLabel("Notes").fill("kernel 6.8, cloud-init 24.1");
  await page.getByRole("button", { name: "Save notes" }).click();
  await expect(page.getByTestId("version-notes")).toHaveText("kernel 6.8, cloud-init 24.1");

  await page.getByRole("button", { name: "Delete version 1" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete version 1?" });
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(dialog.getByRole("alert")).toContainText(`Version 1 of ${name} is in use by 1 active deployment`);
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // Once the run is over, the version can go.
  const sql2 = await connectDatabase();
  try {
    await sql2`update deployments set state = 'done', finished_at = now() where id = ${deploymentId}`;
  } finally {
    await sql2.end();
  }
  await page.getByRole("button", { name: "Delete version 1" }).click();
  await page.getByRole("dialog", { name: "Delete version 1?" }).getByRole("button", { name: "Delete", exact: true }).click();
  await page.waitForURL(`**/images/${image.id}?deletedVersion=1`);
  await expect(page.getByText("Deleted version 1.")).toBeVisible();
  await expect(page.getByText("No versions yet.")).toBeVisible();

  // Rename, then delete the image.
  await page.getByRole("button", { name: "Edit", exact: true }).click();
  await page.getByRole("dialog", { name: "Edit image" }).getByLabel("Name").fill(`${name}-renamed`);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${name}-renamed`);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("dialog", { name: `Delete ${name}-renamed?` }).getByRole("button", { name: "Delete", exact: true }).click();
  await page.waitForURL("**/images?deleted=1");
  await expect(page.getByText("Image deleted.")).toBeVisible();
  await expect(page.getByTestId("image-row").filter({ hasText: name })).toHaveCount(0);
});
