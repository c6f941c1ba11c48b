// The re-check of stored image bytes and the periodic scrub, against real storage files and
// PostgreSQL: the read rate is bounded, versions go oldest-checked first, a blob that no longer
// matches (or is missing, or changed size) fails its version with the reason, and a match
// records when it was checked.
import { seedReadyImage } from "@/test/harness/provisioning";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageRow, getImageVersionRow, updateImageVersionFrom } from "@/db/queries/images";
import { listAudit } from "@/db/queries/audit";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { getImageStorage } from "./storage";
import { hashAtRate, recheckStoredVersion, scrubImageVersions } from "./scrub";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-scrub-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });
const MIB = 1024 * 1024;
let owner = "";

beforeAll(async () => {
  owner = (await createActiveUser(t.db)).user.id;
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

// Relative to the real clock (the versions seeded by other tests are checked "now").
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

const blobFile = async (imageId: string, version: number) => getImageStorage().localBlobPath((await getImageVersionRow(t.db, { imageId, version }))!.storageKey!)!;

/** A ready version last checked at `checked` (its readyAt, or a later verifiedAt). */
async function versionCheckedAt(checked: Date, opts: { bytes?: Buffer; verified?: boolean } = {}) {
  const img = await seedReadyImage(t.db, { ownerUserId: owner, bytes: opts.bytes ?? randomBytes(64 * 1024) });
  await updateImageVersionFrom(t.db, { imageId: img.image.id, version: img.version, from: "ready" }, opts.verified ? { readyAt: new Date(checked.getTime() - 86_400_000), verifiedAt: checked } : { readyAt: checked, verifiedAt: null });
  return img;
}

describe("hashAtRate", () => {
  it("reads no faster than the rate, and as fast as it comes without one", async () => {
    const chunks = () => Readable.from(Array.from({ length: 8 }, () => Buffer.alloc(MIB, 7)));
    const slow = Date.now();
    const a = await hashAtRate(chunks(), 16 * MIB);
    const slowMs = Date.now() - slow;
    // 8 MiB at 16 MiB/s: half a second (the last chunk's pause included).
    expect(slowMs).toBeGreaterThanOrEqual(480);
    expect(slowMs).toBeLessThan(3000);
    const fast = Date.now();
    const b = await hashAtRate(chunks(), null);
    expect(Date.now() - fast).toBeLessThan(slowMs);
    expect(a).toEqual(b);
    expect(a.bytes).toBe(8 * MIB);
  });
});

describe("recheckStoredVersion", () => {
  it("a blob that still matches: ok, and its check time recorded", async () => {
    const img = await versionCheckedAt(daysAgo(300));
    const at = new Date();
    const r = await recheckStoredVersion(t.db, { imageId: img.image.id, version: img.version, cause: "a test", rate: 4 * MIB, now: () => at });
    expect(r).toMatchObject({ state: "ok", bytes: img.bytes.length });
    expect(await getImageVersionRow(t.db, { imageId: img.image.id, version: img.version })).toMatchObject({ state: "ready", verifiedAt: at });
  });

  it("a blob that no longer matches fails its version with the reason; its bytes go, latest moves back, the audit log says so", async () => {
    const older = await seedReadyImage(t.db, { ownerUserId: owner });
    // A second version of the same image, which then goes bad on disk.
    const bytes = randomBytes(200 * 1024);
    const storage = getImageStorage();
    const tmp = path.join(storage.tmpDir, "v2");
    await fs.writeFile(tmp, bytes);
    const { insertImageVersion, refreshLatestVersion, nextImageVersion } = await import("@/db/queries/images");
    const version = await nextImageVersion(t.db, older.image.id);
    const key = await storage.putFile(tmp, older.image.id, version);
    const { createHash } = await import("node:crypto");
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    await insertImageVersion(t.db, { imageId: older.image.id, version, state: "ready", sizeBytes: bytes.length, sha256, format: "raw", sourceFormat: "raw", storageKey: key, readyAt: new Date() });
    await refreshLatestVersion(t.db, older.image.id);
    expect((await getImageRow(t.db, older.image.id))!.latestVersion).toBe(2);
    const file = await blobFile(older.image.id, version);
    const damaged = Buffer.from(bytes);
    damaged[100_000] = damaged[100_000]! ^ 1;
    await fs.writeFile(file, damaged);

    const r = await recheckStoredVersion(t.db, { imageId: older.image.id, version, cause: "a test" });
    expect(r.state).toBe("failed");
    const v = (await getImageVersionRow(t.db, { imageId: older.image.id, version }))!;
    expect(v).toMatchObject({ state: "failed", storageKey: null, failureReason: `the stored bytes no longer match their checksum: expected ${sha256}, got ${createHash("sha256").update(damaged).digest("hex")} (found by a test)` });
    await expect(fs.stat(file)).rejects.toThrow(/ENOENT/);
    expect((await getImageRow(t.db, older.image.id))!.latestVersion).toBe(1);
    const audit = await listAudit(t.db, { targetId: older.image.id, limit: 50, offset: 0 });
    expect(audit.rows.map((a) => a.summary)).toEqual(expect.arrayContaining([expect.stringMatching(/version 2 failed: the stored bytes no longer match their checksum/)]));
    // Safe to run twice: the version is no longer ready, nothing happens.
    expect(await recheckStoredVersion(t.db, { imageId: older.image.id, version, cause: "a test" })).toEqual({ state: "skipped" });
  });

  it("a blob that is missing or changed size fails without being read", async () => {
    const gone = await seedReadyImage(t.db, { ownerUserId: owner });
    await fs.rm(await blobFile(gone.image.id, gone.version));
    expect(await recheckStoredVersion(t.db, { imageId: gone.image.id, version: gone.version, cause: "a test" })).toEqual({ state: "failed", reason: "the stored bytes are missing (found by a test)" });
    const cut = await seedReadyImage(t.db, { ownerUserId: owner, bytes: randomBytes(4096) });
    await fs.truncate(await blobFile(cut.image.id, cut.version), 1000);
    expect(await recheckStoredVersion(t.db, { imageId: cut.image.id, version: cut.version, cause: "a test" })).toEqual({ state: "failed", reason: "the stored bytes changed: 1000 bytes stored, 4096 recorded (found by a test)" });
  });
});

describe("scrubImageVersions", () => {
  it("re-hashes, one at a time and oldest-checked first, only the versions checked longer ago than the interval; a bad one fails", async () => {
    // Earlier tests' versions are all recent; these four are the old ones.
    const a = await versionCheckedAt(daysAgo(30));
    const b = await versionCheckedAt(daysAgo(90), { verified: true });
    const c = await versionCheckedAt(daysAgo(60));
    const fresh = await versionCheckedAt(daysAgo(1));
    const cFile = await blobFile(c.image.id, c.version);
    const bad = Buffer.from(c.bytes);
    bad[0] = bad[0]! ^ 0xff;
    await fs.writeFile(cFile, bad);
    const now = new Date();
    setTestEnv({ KILN_SCRUB_MIB_PER_SECOND: "8", KILN_SCRUB_INTERVAL_HOURS: "168" });
    const r = await scrubImageVersions(t.db, { now: () => now });
    expect(r.stoppedBy).toBe("done");
    expect(r.checked).toEqual([
      { imageId: b.image.id, version: b.version, state: "ok" },
      { imageId: c.image.id, version: c.version, state: "failed" },
      { imageId: a.image.id, version: a.version, state: "ok" },
    ]);
    expect((await getImageVersionRow(t.db, { imageId: c.image.id, version: c.version }))!.failureReason).toMatch(/^the stored bytes no longer match their checksum: .* \(found by the periodic scrub\)$/);
    expect((await getImageVersionRow(t.db, { imageId: a.image.id, version: a.version }))!.verifiedAt).toEqual(now);
    expect((await getImageVersionRow(t.db, { imageId: fresh.image.id, version: fresh.version }))!.verifiedAt).toBeNull();
    // The next run finds nothing old enough.
    expect(await scrubImageVersions(t.db, { now: () => now })).toEqual({ checked: [], stoppedBy: "done" });
  });

  it("starts no new version once its time budget is used, and is off at 0 MiB/s", async () => {
    const first = await versionCheckedAt(daysAgo(400), { bytes: randomBytes(2 * MIB) });
    await versionCheckedAt(daysAgo(300));
    setTestEnv({ KILN_SCRUB_MIB_PER_SECOND: "0" });
    expect(await scrubImageVersions(t.db)).toEqual({ checked: [], stoppedBy: "off" });
    // 2 MiB at 8 MiB/s takes a quarter second, past the 100 ms budget: one version, then stop.
    setTestEnv({ KILN_SCRUB_MIB_PER_SECOND: "8" });
    const started = Date.now();
    const r = await scrubImageVersions(t.db, { budgetMs: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(230);
    expect(r).toEqual({ checked: [{ imageId: first.image.id, version: first.version, state: "ok" }], stoppedBy: "budget" });
  });
});
