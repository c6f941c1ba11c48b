// Images through the real server (npm start: Next's router, the worker process, the embedded
// PostgreSQL): the README's curl recipe as written, uploads cut mid-PATCH and resumed, an
// upload that survives a restart of the whole server, quotas, auth and ranged downloads.
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes, randomInt } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, request as playwrightRequest, test } from "@playwright/test";
import { getProcessEnv } from "../../lib/env";
import { encodeMetadata, tusCreate, tusHead, tusPatch, tusPatchCut, tusResume } from "../../test/harness/tus";
import { apiOk, registerResearcher } from "../support/api";
import { stopProcessGroup, waitForLine, waitForPostgresStopped } from "../support/processes";
import { PASSWORD, readState } from "../support/state";

const exec = promisify(execFile);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A disk image with an MBR partition table and random contents. */
function diskImage(size: number): Buffer {
  const buf = randomBytes(size);
  buf.fill(0, 0, 512);
  buf.writeUInt8(0x80, 446);
  buf.writeUInt8(0x83, 450);
  buf.writeUInt32LE(2048, 454);
  buf.writeUInt32LE(Math.floor(size / 512) - 2048, 458);
  buf[510] = 0x55;
  buf[511] = 0xaa;
  return buf;
}

async function readmeBlock(): Promise<string> {
  const readme = await fs.readFile(path.join(process.cwd(), "README.md"), "utf8");
  const m = readme.match(/<!-- image-upload-session:start[^>]*-->\s*```sh\n([\s\S]*?)```\s*<!-- image-upload-session:end -->/);
  expect(m, "the README's image upload block").not.toBeNull();
  return m![1]!;
}

type Version = { state: string; sha256: string | null; format: string | null; failureReason: string | null; sizeBytes: number };

async function waitSettled(base: string, token: string, imageId: string, version: number, timeoutMs = 60_000): Promise<Version> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${base}/api/v1/images/${imageId}/versions/${version}`, { headers: { authorization: `Bearer ${token}` } });
    const v = (await res.json()) as Version;
    if (v.state === "ready" || v.state === "failed") return v;
    if (Date.now() > deadline) throw new Error(`version ${version} still ${v.state}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("[IMAGES] the README's curl recipe uploads an image, the worker verifies it, and it downloads byte for byte", async () => {
  test.setTimeout(120_000);
  const { baseURL } = readState();
  const ada = await registerResearcher("img-readme");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-readme-img-"));
  try {
    const disk = diskImage(5 * 1024 * 1024);
    await fs.writeFile(path.join(dir, "debian-12.img"), disk);
    const script = (await readmeBlock()).replaceAll("http://localhost:3000", baseURL);
    const { stdout } = await exec("bash", ["-euo", "pipefail", "-c", script], { cwd: dir, env: { ...getProcessEnv(), KILN_TOKEN: ada.tokens[0]! } });
    expect(JSON.parse(stdout.slice(stdout.lastIndexOf("{\n")))).toEqual({ state: "ready", sha256: sha(disk), format: "raw-mbr", sizeBytes: disk.length, failureReason: null });
    expect(sha(await fs.readFile(path.join(dir, "copy.img")))).toBe(sha(disk));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("[IMAGES] through the real router: PATCHes cut mid-body resume, nothing partial is ready, and bad requests are refused", async () => {
  test.setTimeout(120_000);
  const { baseURL } = readState();
  const [ada, eve] = await Promise.all([registerResearcher("img-ada"), registerResearcher("img-eve")]);
  const token = ada.tokens[0]!;
  const image = await apiOk<{ id: string }>(token, "POST", "/api/v1/images", { name: "resumable" }, 201);
  const data = diskImage(12 * 1024 * 1024);
  const created = await tusCreate(`${baseURL}/api/uploads`, token, data.length, { imageId: image.id, filename: "disk.img", sha256: sha(data) });
  expect(created.status, created.body).toBe(201);
  const version = Number(created.headers["kiln-image-version"]);
  for (let i = 0; i < 4; i++) {
    const head = await tusHead(created.location!, token);
    await tusPatchCut(created.location!, token, head.offset, data.subarray(head.offset), randomInt(1, Math.floor((data.length - head.offset) / 2)));
    const v = await apiOk<Version>(token, "GET", `/api/v1/images/${image.id}/versions/${version}`, undefined, 200);
    expect(v.state).toBe("uploading");
    expect((await fetch(`${baseURL}/images/${image.id}/versions/${version}/blob`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  }
  const done = await tusResume(created.location!, token, data);
  expect(done.status, done.body).toBe(204);
  expect(await waitSettled(baseURL, token, image.id, version)).toMatchObject({ state: "ready", sha256: sha(data), format: "raw-mbr" });

  // Ranged download through Next: byte-exact.
  const a = randomInt(0, data.length - 1000);
  const part = await fetch(`${baseURL}/images/${image.id}/versions/latest/blob`, { headers: { authorization: `Bearer ${token}`, range: `bytes=${a}-${a + 999}` } });
  expect(part.status).toBe(206);
  expect(part.headers.get("content-length")).toBe("1000");
  expect(part.headers.get("content-range")).toBe(`bytes ${a}-${a + 999}/${data.length}`);
  expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(a, a + 1000))).toBe(true);
  // Next drops Content-Length from route handlers; Kiln's web server puts it back (downloaders need it).
  const whole = await fetch(`${baseURL}/images/${image.id}/versions/${version}/blob`, { headers: { authorization: `Bearer ${token}` } });
  expect([whole.status, whole.headers.get("content-length"), whole.headers.get("x-kiln-content-length")]).toEqual([200, String(data.length), null]);
  expect(sha(Buffer.from(await whole.arrayBuffer()))).toBe(sha(data));
  const head = await fetch(`${baseURL}/images/${image.id}/versions/${version}/blob`, { method: "HEAD", headers: { authorization: `Bearer ${token}` } });
  expect([head.status, head.headers.get("content-length"), head.headers.get("etag")]).toEqual([200, String(data.length), `"${sha(data)}"`]);

  // Refusals: no credentials, another user's private image (404 for metadata and blob), over quota, a path in the metadata.
  expect((await tusCreate(`${baseURL}/api/uploads`, null, 10, { imageId: image.id, filename: "x" })).status).toBe(401);
  expect((await tusCreate(`${baseURL}/api/uploads`, eve.tokens[0]!, 10, { imageId: image.id, filename: "x" })).status).toBe(404);
  expect((await fetch(`${baseURL}/api/v1/images/${image.id}`, { headers: { authorization: `Bearer ${eve.tokens[0]}` } })).status).toBe(404);
  expect((await fetch(`${baseURL}/images/${image.id}/versions/latest/blob`, { headers: { authorization: `Bearer ${eve.tokens[0]}` } })).status).toBe(404);
  const over = await tusCreate(`${baseURL}/api/uploads`, token, 200e9, { imageId: image.id, filename: "huge.img" });
  expect(over.status).toBe(413);
  expect(JSON.parse(over.body).error.message).toContain("would exceed your storage quota");
  expect((await tusCreate(`${baseURL}/api/uploads`, token, 10, { imageId: image.id, filename: "../../etc/passwd" })).status).toBe(400);
  expect((await tusPatch(created.location!, eve.tokens[0]!, 0, Buffer.alloc(10))).status).toBe(404);

  // A browser session (the cookie, no token) uploads too, as the upload form does.
  const browser = await playwrightRequest.newContext({ baseURL });
  try {
    expect((await browser.post("/api/session", { data: { login: ada.email, password: PASSWORD } })).ok()).toBe(true);
    const tus = { "Tus-Resumable": "1.0.0" };
    const small = Buffer.from("four");
    const made = await browser.fetch("/api/uploads", { method: "POST", headers: { ...tus, "Upload-Length": "4", "Upload-Metadata": encodeMetadata({ imageId: image.id, filename: "s.img" }) } });
    expect(made.status(), await made.text()).toBe(201);
    const sent = await browser.fetch(made.headers()["location"]!, { method: "PATCH", headers: { ...tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream" }, data: small });
    expect(sent.status()).toBe(204);
    expect(await waitSettled(baseURL, token, image.id, Number(made.headers()["kiln-image-version"]))).toMatchObject({ state: "ready", sha256: sha(small) });
  } finally {
    await browser.dispose();
  }
});

test("[IMAGES] an upload survives a restart of the whole server process and resumes from the stored offset", async () => {
  test.setTimeout(300_000);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-img-restart-"));
  await fs.chmod(dataDir, 0o711); // the embedded PostgreSQL runs as the `postgres` user and must enter it
  const port = 40000 + Math.floor(Math.random() * 10000);
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...getProcessEnv(), KILN_DATA_DIR: dataDir, PORT: String(port), KILN_HOST: "127.0.0.1", LOG_LEVEL: "warn" };
  for (const k of ["DATABASE_URL", "SMTP_URL", "LDAP_URL", "LDAP_BASE_DN", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD", "LDAP_ADMIN_GROUP_DN", "KILN_URL"]) delete env[k];
  const start = async () => {
    const child = spawn("npm", ["start"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    await waitForLine(child, /Kiln is running at/, 120_000);
    return child;
  };
  let kiln = await start();
  try {
    const cli = (args: string[]) => exec("npm", ["run", "--silent", "kiln", "--", ...args], { env });
    await cli(["user", "create", "--email", "up@lab.example", "--password", "upload passphrase", "--admin"]);
    const token = (await cli(["token", "create", "--email", "up@lab.example", "--name", "restart"])).stdout.trim().split("\n").pop()!;
    const image = await apiOkAt<{ id: string }>(base, token, "POST", "/api/v1/images", { name: "survivor" }, 201);
    const data = diskImage(20 * 1024 * 1024);
    const created = await tusCreate(`${base}/api/uploads`, token, data.length, { imageId: image.id, filename: "survivor.img", sha256: sha(data) });
    expect(created.status, created.body).toBe(201);
    const version = Number(created.headers["kiln-image-version"]);

    // A PATCH in flight when the server goes down: the connection dies with the process.
    const inFlight = tusPatchCut(created.location!, token, 0, data, data.length - 1);
    await new Promise((r) => setTimeout(r, 300));
    await stopProcessGroup(kiln, 30_000);
    await inFlight;
    expect(await waitForPostgresStopped(dataDir)).toBe(true);
    kiln = await start();

    const head = await tusHead(created.location!, token);
    expect(head.status).toBe(200);
    expect(head.offset).toBeLessThan(data.length);
    const v = await apiOkAt<Version>(base, token, "GET", `/api/v1/images/${image.id}/versions/${version}`, undefined, 200);
    expect(v.state).toBe("uploading");
    expect((await tusResume(created.location!, token, data)).status).toBe(204);
    expect(await waitSettled(base, token, image.id, version)).toMatchObject({ state: "ready", sha256: sha(data) });
    const blob = await fetch(`${base}/images/${image.id}/versions/${version}/blob`, { headers: { authorization: `Bearer ${token}` } });
    expect(sha(Buffer.from(await blob.arrayBuffer()))).toBe(sha(data));
  } finally {
    await stopProcessGroup(kiln, 30_000).catch(() => {});
    await waitForPostgresStopped(dataDir).catch(() => {});
    await fs.rm(dataDir, { recursive: true, force: true }).catch(() => {});
  }
});

async function apiOkAt<T>(base: string, token: string, method: string, p: string, body: unknown, status: number): Promise<T> {
  const res = await fetch(`${base}${p}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (res.status !== status) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
