// Image fixtures without bytes, for tests that only read the rows (the API's authorization
// table, listings): a version recorded as ready, as verification would leave it. And the
// waits and counts the upload tests share.
import { listAudit } from "@/db/queries/audit";
import { getImageVersionRow, insertImageVersion, nextImageVersion, refreshLatestVersion } from "@/db/queries/images";
import type { ImageVersionRow } from "@/db/schema";
import type { Db } from "@/lib/db";

/** Records the image's next version as ready (no stored blob) and makes it `latest`. */
export async function recordReadyImageVersion(
  db: Db,
  params: { imageId: string; uploadedByUserId: string; sizeBytes: number; sha256: string },
): Promise<ImageVersionRow> {
  const version = await nextImageVersion(db, params.imageId);
  const row = await insertImageVersion(db, { ...params, version, state: "ready", format: "raw", readyAt: new Date() });
  await refreshLatestVersion(db, params.imageId);
  return row;
}

/** Waits until the version leaves uploading/verifying (the worker verified it) and returns its row. */
export async function settledVersion(db: Db, ref: { imageId: string; version: number }, timeoutMs = 20_000): Promise<ImageVersionRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await getImageVersionRow(db, ref);
    if (v && (v.state === "ready" || v.state === "failed")) return v;
    if (Date.now() > deadline) throw new Error(`version ${ref.version} still ${v?.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How many times the image was audited as having a version made ready (once per version, exactly). */
export async function readyAuditCount(db: Db, imageId: string): Promise<number> {
  return (await listAudit(db, { action: "image.version.ready", targetId: imageId, limit: 10, offset: 0 })).total;
}
