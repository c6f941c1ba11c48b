// Stored bytes are checked, not trusted. A ready version's blob is hashed again — when a
// deploy of it failed its checksum (the agent's "checksum mismatch" enqueues a re-check), and
// by a periodic scrub, oldest-checked first — at a bounded read rate, so the scrub never
// competes with deliveries for the disk or the bucket. A blob that no longer matches its
// recorded sha256 (or is missing, or has another size) fails its version with the reason:
// nothing can start a run of it again (createDeployment refuses a version that is not ready), and its
// bytes are removed like any failed version's.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { listScrubCandidates } from "@/db/queries/image-scrub";
import { getImageRow, getImageVersionRow, updateImageVersionFrom } from "@/db/queries/images";
import type { Db } from "../db";
import { getEnv } from "../env";
import { SYSTEM } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getLogger } from "../log";
import { failReadyVersion } from "./images";
import { getImageStorage } from "./storage";

const MIB = 1024 * 1024;

export type RecheckResult = { state: "ok" | "failed" | "skipped"; reason?: string; bytes?: number; seconds?: number };

/** The configured read rate in bytes per second; null: unbounded (the scrub is off, a re-check still runs). */
export function scrubRate(): number | null {
  const r = getEnv().KILN_SCRUB_MIB_PER_SECOND;
  return r > 0 ? r * MIB : null;
}

/**
 * sha256 of a stream, read no faster than `rate` bytes per second (null: as fast as it comes).
 * The pause after each chunk keeps the average at the rate from the start; reads stop while
 * it waits, so the source is not read ahead.
 */
export async function hashAtRate(stream: Readable, rate: number | null, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  const started = Date.now();
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (rate) {
      const wait = started + (bytes / rate) * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
    }
  }
  return { sha256: hash.digest("hex"), bytes };
}

async function failStored(db: Db, p: { imageId: string; version: number; key: string; reason: string }): Promise<RecheckResult> {
  const failed = await db.transaction(async (tx) => {
    if (!(await failReadyVersion(tx, { imageId: p.imageId, version: p.version, reason: p.reason.slice(0, 2000) }))) return false;
    const image = await getImageRow(tx, p.imageId);
    await recordAudit(tx, SYSTEM, {
      action: "image.version.failed",
      targetType: "image",
      targetId: p.imageId,
      summary: `${image?.name ?? "image"} version ${p.version} failed: ${p.reason.slice(0, 300)}`,
      data: { version: p.version },
    });
    return true;
  });
  if (!failed) return { state: "skipped" };
  // After the row says failed: a delivery that starts now is refused before it reads.
  await getImageStorage().removeBlob(p.key);
  getLogger("images").warn({ imageId: p.imageId, version: p.version, reason: p.reason }, "stored image version failed its re-check");
  return { state: "failed", reason: p.reason };
}

/**
 * Hashes a ready version's stored blob again. A match records when (verifiedAt); a mismatch,
 * a missing blob or another size fails the version. Safe to run twice, and against a version
 * deleted or failed meanwhile (skipped).
 */
export async function recheckStoredVersion(db: Db, p: { imageId: string; version: number; cause: string; rate?: number | null; now?: () => Date }): Promise<RecheckResult> {
  const v = await getImageVersionRow(db, p);
  if (!v || v.state !== "ready" || !v.storageKey || !v.sha256) return { state: "skipped" };
  const storage = getImageStorage();
  const key = v.storageKey;
  const size = await storage.blobSize(key);
  if (size === null) return failStored(db, { ...p, key, reason: `the stored bytes are missing (found by ${p.cause})` });
  if (size !== v.sizeBytes) return failStored(db, { ...p, key, reason: `the stored bytes changed: ${size} bytes stored, ${v.sizeBytes} recorded (found by ${p.cause})` });
  const started = Date.now();
  const { sha256, bytes } = await hashAtRate(await storage.readBlob(key), p.rate === undefined ? scrubRate() : p.rate);
  const seconds = (Date.now() - started) / 1000;
  if (sha256 !== v.sha256) {
    return failStored(db, { ...p, key, reason: `the stored bytes no longer match their checksum: expected ${v.sha256}, got ${sha256} (found by ${p.cause})` });
  }
  await updateImageVersionFrom(db, { imageId: p.imageId, version: p.version, from: "ready" }, { verifiedAt: (p.now ?? (() => new Date()))() });
  return { state: "ok", bytes, seconds };
}

export type ScrubResult = { checked: { imageId: string; version: number; state: RecheckResult["state"] }[]; stoppedBy: "done" | "budget" | "off" };

/**
 * One scrub run: ready versions last checked more than KILN_SCRUB_INTERVAL_HOURS ago, oldest
 * first, one at a time, each read at KILN_SCRUB_MIB_PER_SECOND. It starts no new version once
 * `budgetMs` has passed (the job passes the time until its next scheduled run, so runs do not
 * pile up; without it a run goes on until done); the next run continues where this one
 * stopped, since the checked versions are now the newest.
 */
export async function scrubImageVersions(db: Db, opts: { now?: () => Date; budgetMs?: number; rate?: number | null; olderThan?: Date } = {}): Promise<ScrubResult> {
  const env = getEnv();
  const rate = opts.rate === undefined ? scrubRate() : opts.rate;
  if (opts.rate === undefined && rate === null) return { checked: [], stoppedBy: "off" };
  const now = opts.now ?? (() => new Date());
  const started = Date.now();
  const budget = opts.budgetMs ?? Infinity;
  const olderThan = opts.olderThan ?? new Date(now().getTime() - env.KILN_SCRUB_INTERVAL_HOURS * 3600_000);
  const checked: ScrubResult["checked"] = [];
  const seen = new Set<string>();
  for (;;) {
    if (Date.now() - started >= budget) return { checked, stoppedBy: "budget" };
    // One at a time, re-read each time: a version deleted, failed or checked meanwhile drops out.
    const [next] = (await listScrubCandidates(db, { olderThan, limit: seen.size + 1 })).filter((c) => !seen.has(`${c.imageId}/${c.version}`));
    if (!next) return { checked, stoppedBy: "done" };
    seen.add(`${next.imageId}/${next.version}`);
    const r = await recheckStoredVersion(db, { ...next, cause: "the periodic scrub", rate, now });
    checked.push({ ...next, state: r.state });
  }
}
