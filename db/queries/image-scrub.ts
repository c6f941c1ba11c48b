// What the image scrub reads: ready versions whose stored bytes were checked longest ago.
import { and, asc, eq, isNotNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { imageVersions } from "../schema";

const lastChecked = sql`coalesce(${imageVersions.verifiedAt}, ${imageVersions.readyAt}, ${imageVersions.createdAt})`;

/** Ready versions last checked before `olderThan`, oldest-checked first. */
export async function listScrubCandidates(db: DbOrTx, p: { olderThan: Date; limit: number }): Promise<{ imageId: string; version: number }[]> {
  return db
    .select({ imageId: imageVersions.imageId, version: imageVersions.version })
    .from(imageVersions)
    .where(and(eq(imageVersions.state, "ready"), isNotNull(imageVersions.storageKey), sql`${lastChecked} < ${p.olderThan.toISOString()}::timestamptz`))
    .orderBy(asc(lastChecked), asc(imageVersions.imageId), asc(imageVersions.version))
    .limit(p.limit);
}
