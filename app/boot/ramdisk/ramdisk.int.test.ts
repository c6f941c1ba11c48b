// GET|HEAD /boot/ramdisk/<file>: the two files of the deploy ramdisk, with their length, Range and
// no credentials; any other name is 404; a ramdisk that was never built is 503 with what to run.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { setTestEnv } from "@/test/harness/env";
import { callRoute } from "@/test/harness/route-handler";
import * as route from "./[file]/route";

const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-ramdisk-route-"));
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const KERNEL = "a stand-in for vmlinuz\n".repeat(1000);
const INITRD = "a stand-in for initrd.img\n".repeat(3000);

beforeEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  setTestEnv({ KILN_RAMDISK_DIR: dir });
});

async function build(): Promise<void> {
  await fs.writeFile(path.join(dir, "vmlinuz"), KERNEL);
  await fs.writeFile(path.join(dir, "initrd.img"), INITRD);
  await fs.writeFile(path.join(dir, "manifest.json"), "{}");
}

const get = (file: string, headers: Record<string, string> = {}, method = "GET") => callRoute(method === "GET" ? route.GET : route.HEAD, method, `/boot/ramdisk/${file}`, { params: { file }, headers });

describe("/boot/ramdisk/<file>", () => {
  it("serves vmlinuz and initrd.img whole, with their length and no credentials", async () => {
    await build();
    const kernel = await get("vmlinuz");
    expect(kernel.status).toBe(200);
    expect(kernel.body).toBe(KERNEL);
    expect(kernel.headers.get("x-kiln-content-length")).toBe(String(KERNEL.length));
    expect(kernel.headers.get("content-length")).toBe(String(KERNEL.length));
    expect(kernel.headers.get("content-type")).toBe("application/octet-stream");
    expect(kernel.headers.get("accept-ranges")).toBe("bytes");
    const initrd = await get("initrd.img");
    expect(initrd.status).toBe(200);
    expect(initrd.body).toBe(INITRD);
  });

  it("answers HEAD with the length and no body", async () => {
    await build();
    const head = await get("initrd.img", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers.get("content-length")).toBe(String(INITRD.length));
  });

  it("serves one range, and 304 for the ETag the client holds", async () => {
    await build();
    const part = await get("initrd.img", { range: "bytes=26-51" });
    expect(part.status).toBe(206);
    expect(part.body).toBe(INITRD.slice(26, 52));
    expect(part.headers.get("content-range")).toBe(`bytes 26-51/${INITRD.length}`);
    expect(part.headers.get("content-length")).toBe("26");
    expect((await get("initrd.img", { range: `bytes=${INITRD.length}-` })).status).toBe(416);
    const etag = part.headers.get("etag")!;
    expect((await get("initrd.img", { "if-none-match": etag })).status).toBe(304);
    // A rebuild replaces the file: the old ETag no longer matches.
    await fs.rm(path.join(dir, "initrd.img"));
    await fs.writeFile(path.join(dir, "initrd.img"), INITRD + "rebuilt\n");
    expect((await get("initrd.img", { "if-none-match": etag })).status).toBe(200);
  });

  it("is 404 for every other name, built or not", async () => {
    await build();
    for (const name of ["manifest.json", "vmlinuz.old", "..%2Fmanifest.json", "initrd.img%00", "VMLINUZ"]) {
      const res = await get(name);
      expect(res.status, name).toBe(404);
    }
  });

  it("is 503 with the command to run while no ramdisk is built", async () => {
    for (const file of ["vmlinuz", "initrd.img"]) {
      const res = await get(file);
      expect(res.status).toBe(503);
      expect(JSON.stringify(res.body)).toContain("npm run ramdisk");
    }
    const head = await get("vmlinuz", {}, "HEAD");
    expect(head.status).toBe(503);
  });
});
