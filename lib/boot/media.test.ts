import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isAppError } from "../errors";
import { ensureMedia, MEDIA_SETS, readMediaManifest, serveMediaFile } from "./media";

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-media-"));
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

const get = (dir: string, set: string, file: string, headers: Record<string, string> = {}, method = "GET") => serveMediaFile({ dir, set, file, method, headers: new Headers(headers) });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e) => (isAppError(e) ? { code: e.code, message: e.message } : { code: "thrown", message: String(e) }),
  );

describe("install media", () => {
  it("serves only the set's own files, with Range, and says what to run while they are missing", async () => {
    const dir = path.join(tmp, "served");
    expect(await refusal(get(dir, "debian-12", "linux"))).toEqual({ code: "unavailable", message: expect.stringContaining("npm run media -- debian-12") });
    await fs.mkdir(path.join(dir, "debian-12"), { recursive: true });
    await fs.writeFile(path.join(dir, "debian-12", "linux"), "0123456789");
    await fs.writeFile(path.join(dir, "debian-12", "secret"), "x");

    const whole = await get(dir, "debian-12", "linux");
    expect(whole.status).toBe(200);
    expect(await whole.text()).toBe("0123456789");
    const part = await get(dir, "debian-12", "linux", { range: "bytes=4-" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 4-9/10");
    expect(await part.text()).toBe("456789");
    expect((await get(dir, "debian-12", "linux", {}, "HEAD")).headers.get("content-length")).toBe("10");

    // Names outside the list, other sets, object keys and paths are 404, whatever is on disk.
    for (const [set, file] of [["debian-12", "secret"], ["debian-12", "manifest.json"], ["debian-12", "../debian-12/linux"], ["ubuntu-24.04", "linux"], ["constructor", "linux"], ["__proto__", "linux"], ["..", "etc"]] as const) {
      expect(await refusal(get(dir, set, file)), `${set}/${file}`).toMatchObject({ code: "not_found" });
    }
  });

  const pkg = MEDIA_SETS["debian-12"]!;
  const installed = existsSync(path.join(pkg.sourceDir, "initrd.gz"));
  // The netboot package is installed by `scripts/ensure-deps.sh --install` (npm run test:install), not for npm test.
  it.skipIf(!installed)("copies the Debian installer from its package once, and again only when the package's version changes", async () => {
    const dir = path.join(tmp, "copied");
    const lines: string[] = [];
    const first = await ensureMedia({ dir, set: "debian-12", log: (l) => lines.push(l) });
    expect(first).toMatchObject({ set: "debian-12", package: "debian-installer-12-netboot-amd64", version: expect.stringMatching(/^\d{8}/) });
    expect(Object.keys(first!.files).sort()).toEqual(["initrd.gz", "linux"]);
    expect((await fs.stat(path.join(dir, "debian-12", "initrd.gz"))).size).toBe(first!.files["initrd.gz"]!.bytes);
    expect(lines).toHaveLength(1);
    const again = await ensureMedia({ dir, set: "debian-12", log: (l) => lines.push(l) });
    expect(again?.copiedAt).toBe(first!.copiedAt);
    expect(lines).toHaveLength(1);
    // A manifest of another version (the package was upgraded): copied again.
    await fs.writeFile(path.join(dir, "debian-12", "manifest.json"), JSON.stringify({ ...first, version: "0" }));
    expect((await ensureMedia({ dir, set: "debian-12", log: (l) => lines.push(l) }))?.version).toBe(first!.version);
    expect((await readMediaManifest(dir, "debian-12"))?.version).toBe(first!.version);
    await expect(ensureMedia({ dir, set: "nope", log: () => {} })).rejects.toThrow(/unknown install media nope/);
  });
});
