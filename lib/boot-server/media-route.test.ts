// The boot server's /boot/media/<set>/<file> route: install media for machines, matched before
// the run files' /boot/<mac>/<token>/<file> (as many parts), with no credentials.
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBootHandler } from "./server";

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-media-route-"));
let server: http.Server;
let url = "";
const answered: string[] = [];

beforeAll(async () => {
  await fs.mkdir(path.join(tmp, "debian-12"));
  await fs.writeFile(path.join(tmp, "debian-12", "linux"), "kernel bytes");
  // Media never touches the database: a handle that throws proves it.
  const db = new Proxy(
    {},
    {
      get: () => {
        throw new Error("the media route used the database");
      },
    },
  ) as never;
  const handler = createBootHandler({ db, answers: { answer: (r) => (answered.push(r.mac), { status: 200, contentType: "text/plain", body: "#!ipxe\n" }) }, bootUrl: "http://boot.test", ramdiskDir: "/nonexistent", mediaDir: tmp, portalUrl: "http://127.0.0.1:1" });
  server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("GET /boot/media/<set>/<file>", () => {
  it("streams a file of the set, with Range, to anyone", async () => {
    const res = await fetch(`${url}/boot/media/debian-12/linux`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("12");
    expect(await res.text()).toBe("kernel bytes");
    const part = await fetch(`${url}/boot/media/debian-12/linux`, { headers: { range: "bytes=7-" } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("bytes");
  });

  it("answers 503 naming the command while a file is not copied, 404 for other names, 405 for other methods", async () => {
    const missing = await fetch(`${url}/boot/media/debian-12/initrd.gz`);
    expect(missing.status).toBe(503);
    expect((await missing.json()).error.message).toContain("npm run media -- debian-12");
    for (const p of ["/boot/media/debian-12/secret", "/boot/media/rocky-9/linux", "/boot/media/constructor/linux"]) {
      expect((await fetch(`${url}${p}`)).status, p).toBe(404);
    }
    expect((await fetch(`${url}/boot/media/debian-12/linux`, { method: "POST", body: "x" })).status).toBe(405);
    expect(answered).toEqual([]);
  });
});
