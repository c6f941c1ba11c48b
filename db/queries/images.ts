import { and, asc, count, desc, eq, ilike, inArray, isNotNull, isNull, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { projectDiskBytes, userDiskBytes } from "./lease-disks";
import { deployments, hosts, imageUploads, images, imageVersions, projectMembers, projects, users, type ImageRow, type ImageUploadRow, type ImageVersionRow } from "../schema";

// Images

export async function insertImage(db: DbOrTx, values: typeof images.$inferInsert): Promise<ImageRow> {
  const [row] = await db.insert(images).values(values).returning();
  return row!;
}

export async function getImageRow(db: DbOrTx, id: string): Promise<ImageRow | undefined> {
  const [row] = await db.select().from(images).where(eq(images.id, id)).limit(1);
  return row;
}

/** The image row, locked until the transaction ends (version numbering, deletes). */
export async function lockImage(db: DbOrTx, id: string): Promise<ImageRow | undefined> {
  const [row] = await db.select().from(images).where(eq(images.id, id)).for("update").limit(1);
  return row;
}

export async function updateImageRow(db: DbOrTx, id: string, values: Partial<typeof images.$inferInsert>) {
  const [row] = await db.update(images).set({ ...values, updatedAt: new Date() }).where(eq(images.id, id)).returning();
  return row;
}

export async function deleteImageRow(db: DbOrTx, id: string): Promise<boolean> {
  return (await db.delete(images).where(eq(images.id, id)).returning({ id: images.id })).length > 0;
}

/** Hands out the next version number of an image (never reused). */
export async function nextImageVersion(db: DbOrTx, id: string): Promise<number> {
  const [row] = await db
    .update(images)
    .set({ versionCounter: sql`${images.versionCounter} + 1`, updatedAt: new Date() })
    .where(eq(images.id, id))
    .returning({ v: images.versionCounter });
  return row!.v;
}

/** latest_version := the newest ready version (null when none is). */
export async function refreshLatestVersion(db: DbOrTx, id: string): Promise<void> {
  await db
    .update(images)
    .set({ latestVersion: sql`(select max(${imageVersions.version}) from ${imageVersions} where ${imageVersions.imageId} = ${id} and ${imageVersions.state} = 'ready')` })
    .where(eq(images.id, id));
}

function visibleTo(db: DbOrTx, userId: string): SQL {
  return or(
    eq(images.visibility, "public"),
    eq(images.ownerUserId, userId),
    and(
      eq(images.visibility, "project"),
      isNotNull(images.projectId),
      inArray(images.projectId, db.select({ id: projectMembers.projectId }).from(projectMembers).where(eq(projectMembers.userId, userId))),
    ),
  )!;
}

const imageListColumns = {
  image: images,
  ownerEmail: users.email,
  projectName: projects.name,
  versionCount: sql<number>`(select count(*)::int from ${imageVersions} where ${imageVersions.imageId} = ${images.id})`,
  latestSizeBytes: sql<number | null>`(select ${imageVersions.sizeBytes} from ${imageVersions} where ${imageVersions.imageId} = ${images.id} and ${imageVersions.version} = ${images.latestVersion})`.mapWith((v) => (v === null ? null : Number(v))),
  latestFormat: sql<string | null>`(select ${imageVersions.format}::text from ${imageVersions} where ${imageVersions.imageId} = ${images.id} and ${imageVersions.version} = ${images.latestVersion})`,
  totalBytes: sql<number>`(select coalesce(sum(${imageVersions.sizeBytes}), 0)::bigint from ${imageVersions} where ${imageVersions.imageId} = ${images.id} and ${imageVersions.state} <> 'failed')`.mapWith(Number),
};

/** Images a user may see (public, own, their projects' shared ones; admins: all), by name. */
export async function listVisibleImages(db: DbOrTx, params: { userId: string; isAdmin: boolean; q?: string; limit: number; offset: number }) {
  const conds: SQL[] = [];
  if (!params.isAdmin) conds.push(visibleTo(db, params.userId));
  if (params.q) {
    const like = `%${params.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conds.push(or(ilike(images.name, like), ilike(images.description, like))!);
  }
  const where = conds.length ? and(...conds) : undefined;
  const rows = await db
    .select(imageListColumns)
    .from(images)
    .leftJoin(users, eq(users.id, images.ownerUserId))
    .leftJoin(projects, eq(projects.id, images.projectId))
    .where(where)
    .orderBy(asc(images.name), asc(images.createdAt))
    .limit(params.limit)
    .offset(params.offset);
  const [total] = await db.select({ n: count() }).from(images).where(where);
  return { rows, total: total?.n ?? 0 };
}

export async function getImageWithOwner(db: DbOrTx, id: string) {
  const [row] = await db
    .select(imageListColumns)
    .from(images)
    .leftJoin(users, eq(users.id, images.ownerUserId))
    .leftJoin(projects, eq(projects.id, images.projectId))
    .where(eq(images.id, id))
    .limit(1);
  return row;
}

// Versions

export async function insertImageVersion(db: DbOrTx, values: typeof imageVersions.$inferInsert): Promise<ImageVersionRow> {
  const [row] = await db.insert(imageVersions).values(values).returning();
  return row!;
}

export async function getImageVersionRow(db: DbOrTx, params: { imageId: string; version: number }): Promise<ImageVersionRow | undefined> {
  const [row] = await db
    .select()
    .from(imageVersions)
    .where(and(eq(imageVersions.imageId, params.imageId), eq(imageVersions.version, params.version)))
    .limit(1);
  return row;
}

export async function lockImageVersion(db: DbOrTx, params: { imageId: string; version: number }): Promise<ImageVersionRow | undefined> {
  const [row] = await db
    .select()
    .from(imageVersions)
    .where(and(eq(imageVersions.imageId, params.imageId), eq(imageVersions.version, params.version)))
    .for("update")
    .limit(1);
  return row;
}

const versionColumns = { version: imageVersions, uploaderEmail: users.email };

export async function listImageVersionRows(db: DbOrTx, imageId: string) {
  return db
    .select(versionColumns)
    .from(imageVersions)
    .leftJoin(users, eq(users.id, imageVersions.uploadedByUserId))
    .where(eq(imageVersions.imageId, imageId))
    .orderBy(desc(imageVersions.version));
}

export async function getImageVersionWithUploader(db: DbOrTx, params: { imageId: string; version: number }) {
  const [row] = await db
    .select(versionColumns)
    .from(imageVersions)
    .leftJoin(users, eq(users.id, imageVersions.uploadedByUserId))
    .where(and(eq(imageVersions.imageId, params.imageId), eq(imageVersions.version, params.version)))
    .limit(1);
  return row;
}

/**
 * Moves a version on only from the state the caller saw (or one of them: a guarded UPDATE), so
 * a verifier running twice, or a delete racing a verifier, cannot both act.
 */
export async function updateImageVersionFrom(
  db: DbOrTx,
  params: { imageId: string; version: number; from: ImageVersionRow["state"] | ImageVersionRow["state"][] },
  values: Partial<typeof imageVersions.$inferInsert>,
): Promise<ImageVersionRow | undefined> {
  const [row] = await db
    .update(imageVersions)
    .set(values)
    .where(and(eq(imageVersions.imageId, params.imageId), eq(imageVersions.version, params.version), Array.isArray(params.from) ? inArray(imageVersions.state, params.from) : eq(imageVersions.state, params.from)))
    .returning();
  return row;
}

export async function updateImageVersionNotes(db: DbOrTx, params: { imageId: string; version: number; notes?: string; arch?: ImageVersionRow["arch"] }) {
  const [row] = await db
    .update(imageVersions)
    .set({ ...(params.notes !== undefined ? { notes: params.notes } : {}), ...(params.arch !== undefined ? { arch: params.arch } : {}) })
    .where(and(eq(imageVersions.imageId, params.imageId), eq(imageVersions.version, params.version)))
    .returning();
  return row;
}

export async function deleteImageVersionRow(db: DbOrTx, params: { imageId: string; version: number }): Promise<boolean> {
  const rows = await db
    .delete(imageVersions)
    .where(and(eq(imageVersions.imageId, params.imageId), eq(imageVersions.version, params.version)))
    .returning({ v: imageVersions.version });
  return rows.length > 0;
}

/** Storage keys of an image's stored versions (to delete the bytes with the image). */
export async function listImageStorageKeys(db: DbOrTx, imageId: string) {
  return db
    .select({ version: imageVersions.version, storageKey: imageVersions.storageKey, state: imageVersions.state })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, imageId));
}

/** Versions in `verifying` for longer than `olderThan` (their job was lost): to enqueue again. */
export async function listStuckVerifications(db: DbOrTx, olderThan: Date) {
  return db
    .select({ imageId: imageUploads.imageId, version: imageUploads.version })
    .from(imageUploads)
    .innerJoin(imageVersions, and(eq(imageVersions.imageId, imageUploads.imageId), eq(imageVersions.version, imageUploads.version)))
    .where(and(eq(imageVersions.state, "verifying"), lt(imageUploads.completedAt, olderThan)));
}

// Storage use, for quotas. A version counts with its stored size from the moment its upload
// is created (Upload-Length) until it fails or is deleted, so uploads in flight are counted.
// A lease's extra disks count in the same accounts, at full size, until wiped (./lease-disks.ts).

export async function userStorageBytes(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<string>`coalesce(sum(${imageVersions.sizeBytes}), 0)` })
    .from(imageVersions)
    .where(and(eq(imageVersions.uploadedByUserId, userId), ne(imageVersions.state, "failed")));
  return Number(row?.n ?? 0) + (await userDiskBytes(db, userId));
}

export async function projectStorageBytes(db: DbOrTx, projectId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<string>`coalesce(sum(${imageVersions.sizeBytes}), 0)` })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(and(eq(images.projectId, projectId), ne(imageVersions.state, "failed")));
  return Number(row?.n ?? 0) + (await projectDiskBytes(db, projectId));
}

/**
 * Serialises quota checks of one user and one project for the rest of the transaction, so
 * two uploads created at the same moment cannot both fit into the same free space.
 */
export async function lockStorageAccount(db: DbOrTx, key: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext(${`kiln-storage:${key}`}))`);
}

// Deployments that use a version

export async function countActiveDeploymentsOfVersion(db: DbOrTx, params: { imageId: string; version?: number }): Promise<number> {
  const conds = [eq(deployments.imageId, params.imageId), inArray(deployments.state, ["pending", "running"])];
  if (params.version !== undefined) conds.push(eq(deployments.imageVersion, params.version));
  const [row] = await db.select({ n: count() }).from(deployments).where(and(...conds));
  return row?.n ?? 0;
}

export async function listDeploymentsOfVersion(db: DbOrTx, params: { imageId: string; version: number; limit?: number }) {
  return db
    .select({
      id: deployments.id,
      hostId: deployments.hostId,
      hostName: hosts.name,
      state: deployments.state,
      userEmail: users.email,
      createdAt: deployments.createdAt,
      finishedAt: deployments.finishedAt,
    })
    .from(deployments)
    .innerJoin(hosts, eq(hosts.id, deployments.hostId))
    .leftJoin(users, eq(users.id, deployments.userId))
    .where(and(eq(deployments.imageId, params.imageId), eq(deployments.imageVersion, params.version)))
    .orderBy(desc(deployments.createdAt))
    .limit(params.limit ?? 50);
}

// Uploads

export async function insertImageUpload(db: DbOrTx, values: typeof imageUploads.$inferInsert): Promise<ImageUploadRow> {
  const [row] = await db.insert(imageUploads).values(values).returning();
  return row!;
}

export async function getImageUploadRow(db: DbOrTx, id: string): Promise<ImageUploadRow | undefined> {
  const [row] = await db.select().from(imageUploads).where(eq(imageUploads.id, id)).limit(1);
  return row;
}

export async function getImageUploadOfVersion(db: DbOrTx, params: { imageId: string; version: number }): Promise<ImageUploadRow | undefined> {
  const [row] = await db
    .select()
    .from(imageUploads)
    .where(and(eq(imageUploads.imageId, params.imageId), eq(imageUploads.version, params.version)))
    .limit(1);
  return row;
}

/** Marks an upload complete once; false when it already was (the finish hook ran before). */
export async function completeImageUpload(db: DbOrTx, id: string, at: Date): Promise<boolean> {
  const rows = await db
    .update(imageUploads)
    .set({ completedAt: at })
    .where(and(eq(imageUploads.id, id), isNull(imageUploads.completedAt)))
    .returning({ id: imageUploads.id });
  return rows.length > 0;
}

export async function deleteImageUploadRow(db: DbOrTx, id: string): Promise<void> {
  await db.delete(imageUploads).where(eq(imageUploads.id, id));
}

export async function listExpiredImageUploads(db: DbOrTx, now: Date, limit = 500) {
  return db
    .select()
    .from(imageUploads)
    .where(and(isNull(imageUploads.completedAt), lt(imageUploads.expiresAt, now)))
    .orderBy(asc(imageUploads.expiresAt))
    .limit(limit);
}

/**
 * Uploads still receiving bytes (no finish recorded, version `uploading`), oldest first: the
 * ones whose stored bytes may already be complete after a crash before the finish step.
 */
export async function listOpenImageUploads(db: DbOrTx, limit = 1000): Promise<ImageUploadRow[]> {
  const rows = await db
    .select({ upload: imageUploads })
    .from(imageUploads)
    .innerJoin(imageVersions, and(eq(imageVersions.imageId, imageUploads.imageId), eq(imageVersions.version, imageUploads.version)))
    .where(and(isNull(imageUploads.completedAt), eq(imageVersions.state, "uploading")))
    .orderBy(asc(imageUploads.createdAt))
    .limit(limit);
  return rows.map((r) => r.upload);
}

export async function listImageUploadIds(db: DbOrTx, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.select({ id: imageUploads.id }).from(imageUploads).where(inArray(imageUploads.id, ids));
  return new Set(rows.map((r) => r.id));
}

export async function updateImageUploadRow(db: DbOrTx, id: string, values: Partial<Pick<typeof imageUploads.$inferInsert, "lengthBytes" | "expiresAt">>): Promise<ImageUploadRow | undefined> {
  const [row] = await db.update(imageUploads).set(values).where(eq(imageUploads.id, id)).returning();
  return row;
}
