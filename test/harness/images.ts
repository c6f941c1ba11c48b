// Image fixtures without bytes, for tests that only read the rows (the API's authorization
// table, listings): a version recorded as ready, as verification would leave it.
import { insertImageVersion, nextImageVersion, refreshLatestVersion } from "@/db/queries/images";
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
