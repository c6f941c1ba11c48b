// Images as data: owners, sharing, numbered versions (each upload adds one; `latest` is the
// newest ready one), storage quotas, and deletes that never pull bytes from under a
// running deployment.
import { getProjectRow } from "@/db/queries/projects";
import {
  countActiveDeploymentsOfVersion,
  deleteImageRow,
  deleteImageVersionRow,
  getImageRow,
  getImageUploadOfVersion,
  getImageVersionWithUploader,
  getImageWithOwner,
  insertImage,
  insertImageUpload,
  insertImageVersion,
  listDeploymentsOfVersion,
  listImageStorageKeys,
  listImageVersionRows,
  listVisibleImages,
  lockImage,
  lockImageVersion,
  lockStorageAccount,
  nextImageVersion,
  projectStorageBytes,
  refreshLatestVersion,
  updateImageRow,
  updateImageVersionFrom,
  updateImageVersionNotes,
  userStorageBytes,
} from "@/db/queries/images";
import type { ImageFormat, ImageRow, ImageVersionRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { isAdmin, isOwnerOrAdmin, type Actor } from "../access/actor";
import { canReadShared, isProjectMemberOrAdmin } from "../access/sharing";
import { recordAudit } from "../audit/audit";
import { getLogger } from "../log";
import { paginated } from "../validation/common";
import { imageCreateSchema, imageListQuerySchema, imageUpdateSchema, imageVersionUpdateSchema, UPLOAD_PATH, uploadMetadataSchema, type VersionRef } from "../validation/images";
import { parseInput } from "../validation/parse";
import { getImageStorage } from "./storage";
import { versionWarnings } from "./format";

export const IMAGE_NOT_FOUND = "That image does not exist, or you may not see it.";

const GB = 1e9;

function canWriteImage(actor: Actor, image: ImageRow): boolean {
  return isOwnerOrAdmin(actor, image.ownerUserId);
}

/** An image the actor may read; 404 otherwise (private images are not acknowledged). */
export async function getReadableImage(db: DbOrTx, actor: Actor, id: string): Promise<ImageRow> {
  const image = await getImageRow(db, id);
  if (!image || !(await canReadShared(db, actor, image))) throw new AppError("not_found", IMAGE_NOT_FOUND);
  return image;
}

async function getWritableImage(db: DbOrTx, actor: Actor, id: string): Promise<ImageRow> {
  const image = await getReadableImage(db, actor, id);
  if (!canWriteImage(actor, image)) throw new AppError("forbidden", "Only the image's owner (or an administrator) can change it.");
  return image;
}

async function assertShare(db: DbOrTx, actor: Actor, visibility: string, projectId: string | null | undefined): Promise<void> {
  if (visibility === "public" && !isAdmin(actor)) throw AppError.field("visibility", "Only administrators publish images to everyone; share it with a project instead.");
  if (visibility === "project" && !projectId) throw AppError.field("projectId", "Choose the project to share the image with.");
  if (projectId) {
    if (!(await getProjectRow(db, projectId))) throw AppError.field("projectId", "That project does not exist.");
    if (!(await isProjectMemberOrAdmin(db, actor, projectId))) {
      throw AppError.field("projectId", "You can only put images in projects you belong to.");
    }
  }
}

/** The URL a version's bytes are served at (the deploy ramdisk adds `?token=`). */
export function blobPathOf(imageId: string, version: number | "latest"): string {
  return `/images/${imageId}/versions/${version}/blob`;
}

type ImageListRow = Awaited<ReturnType<typeof listVisibleImages>>["rows"][number];

function imageView(actor: Actor, row: ImageListRow) {
  const { image } = row;
  return {
    id: image.id,
    name: image.name,
    description: image.description,
    ownerUserId: image.ownerUserId,
    ownerEmail: row.ownerEmail,
    projectId: image.projectId,
    projectName: row.projectName,
    visibility: image.visibility,
    latestVersion: image.latestVersion,
    latestSizeBytes: row.latestSizeBytes,
    latestFormat: row.latestFormat as ImageFormat | null,
    versionCount: row.versionCount,
    totalBytes: row.totalBytes,
    canEdit: canWriteImage(actor, image),
    createdAt: image.createdAt,
    updatedAt: image.updatedAt,
  };
}
export type ImageView = ReturnType<typeof imageView>;

function versionView(v: ImageVersionRow, uploaderEmail: string | null, uploadId?: string | null) {
  return {
    imageId: v.imageId,
    version: v.version,
    state: v.state,
    sizeBytes: v.sizeBytes,
    sha256: v.sha256,
    format: v.format,
    sourceFormat: v.sourceFormat,
    sourceSha256: v.sourceSha256,
    sourceSizeBytes: v.sourceSizeBytes,
    expectedSha256: v.expectedSha256,
    filename: v.filename,
    notes: v.notes,
    arch: v.arch,
    failureReason: v.failureReason,
    // What to know before deploying it (bytes Kiln did not recognise as a disk image).
    warnings: versionWarnings(v),
    uploadedByUserId: v.uploadedByUserId,
    uploaderEmail,
    createdAt: v.createdAt,
    readyAt: v.readyAt,
    blobUrl: v.state === "ready" ? blobPathOf(v.imageId, v.version) : null,
    // While bytes are arriving: the tus upload to resume (HEAD for the offset, then PATCH).
    uploadUrl: v.state === "uploading" && uploadId ? `${UPLOAD_PATH}/${uploadId}` : null,
  };
}
export type ImageVersionView = ReturnType<typeof versionView>;

export async function listImages(db: Db, actor: Actor, query: unknown) {
  const q = parseInput(imageListQuerySchema, query);
  const { rows, total } = await listVisibleImages(db, { userId: actor.user?.id ?? "", isAdmin: isAdmin(actor), q: q.q, limit: q.per_page, offset: (q.page - 1) * q.per_page });
  return paginated(rows.map((r) => imageView(actor, r)), q, total);
}

export async function getImage(db: Db, actor: Actor, id: string) {
  await getReadableImage(db, actor, id);
  const row = (await getImageWithOwner(db, id))!;
  return { ...imageView(actor, row), versions: await listImageVersions(db, actor, id) };
}

export async function createImage(db: Db, actor: Actor, input: unknown): Promise<ImageView> {
  const data = parseInput(imageCreateSchema, input);
  const id = await db.transaction(async (tx) => {
    await assertShare(tx, actor, data.visibility, data.projectId);
    const image = await insertImage(tx, { name: data.name, description: data.description, visibility: data.visibility, projectId: data.projectId ?? null, ownerUserId: actor.user?.id ?? null });
    await recordAudit(tx, actor, { action: "image.create", targetType: "image", targetId: image.id, summary: `created image ${data.name}`, data: { visibility: data.visibility, projectId: data.projectId ?? null } });
    return image.id;
  });
  return imageView(actor, (await getImageWithOwner(db, id))!);
}

export async function updateImage(db: Db, actor: Actor, id: string, input: unknown): Promise<ImageView> {
  const data = parseInput(imageUpdateSchema, input);
  await db.transaction(async (tx) => {
    const image = await getWritableImage(tx, actor, id);
    const visibility = data.visibility ?? image.visibility;
    const projectId = data.projectId !== undefined ? data.projectId : image.projectId;
    if (data.visibility !== undefined || data.projectId !== undefined) await assertShare(tx, actor, visibility, projectId);
    await updateImageRow(tx, id, data);
    await recordAudit(tx, actor, { action: "image.update", targetType: "image", targetId: id, summary: `updated image ${image.name}`, data });
  });
  return imageView(actor, (await getImageWithOwner(db, id))!);
}

/** Deletes an image with all its versions and bytes; refused while a deployment uses any of them. */
export async function deleteImage(db: Db, actor: Actor, id: string): Promise<void> {
  const keys = await db.transaction(async (tx) => {
    const image = await getWritableImage(tx, actor, id);
    await lockImage(tx, id);
    const active = await countActiveDeploymentsOfVersion(tx, { imageId: id });
    if (active > 0) throw new AppError("conflict", `Image ${image.name} is being deployed right now (${active} active deployment${active === 1 ? "" : "s"}); delete it when they have finished.`);
    const stored = await listImageStorageKeys(tx, id);
    const uploads = await Promise.all(stored.filter((s) => s.state === "uploading" || s.state === "verifying").map((s) => getImageUploadOfVersion(tx, { imageId: id, version: s.version })));
    await deleteImageRow(tx, id);
    await recordAudit(tx, actor, { action: "image.delete", targetType: "image", targetId: id, summary: `deleted image ${image.name} with ${stored.length} version(s)` });
    return { blobs: stored.map((s) => s.storageKey).filter((k): k is string => Boolean(k)), uploads: uploads.filter(Boolean).map((u) => u!.id) };
  });
  // After the commit: bytes go only once nothing can reach them any more.
  await removeBytes(keys.blobs, keys.uploads);
}

async function removeBytes(blobs: string[], uploads: string[]): Promise<void> {
  if (blobs.length === 0 && uploads.length === 0) return;
  const storage = getImageStorage();
  for (const key of blobs) await storage.removeBlob(key).catch((err) => getLogger("images").warn({ err, key }, "could not delete an image blob"));
  for (const id of uploads) await storage.removeUpload(id).catch((err) => getLogger("images").warn({ err, id }, "could not delete upload bytes"));
}

export async function listImageVersions(db: DbOrTx, actor: Actor, imageId: string): Promise<ImageVersionView[]> {
  await getReadableImage(db, actor, imageId);
  const rows = await listImageVersionRows(db, imageId);
  const canWrite = canWriteImage(actor, (await getImageRow(db, imageId))!);
  return Promise.all(
    rows.map(async (r) => versionView(r.version, r.uploaderEmail, canWrite && r.version.state === "uploading" ? (await getImageUploadOfVersion(db, { imageId, version: r.version.version }))?.id : null)),
  );
}

/** A version number, `latest` resolved to the newest ready version; 404 when there is none. */
export async function resolveVersion(db: DbOrTx, image: ImageRow, ref: VersionRef): Promise<number> {
  if (ref !== "latest") return ref;
  if (image.latestVersion === null) throw new AppError("not_found", `Image ${image.name} has no ready version yet.`);
  return image.latestVersion;
}

export async function getImageVersion(db: Db, actor: Actor, imageId: string, ref: VersionRef) {
  const image = await getReadableImage(db, actor, imageId);
  const version = await resolveVersion(db, image, ref);
  const row = await getImageVersionWithUploader(db, { imageId, version });
  if (!row) throw new AppError("not_found", `Version ${version} of image ${image.name} does not exist.`);
  const upload = canWriteImage(actor, image) && row.version.state === "uploading" ? await getImageUploadOfVersion(db, { imageId, version }) : undefined;
  return { ...versionView(row.version, row.uploaderEmail, upload?.id), imageName: image.name, usedBy: await listDeploymentsOfVersion(db, { imageId, version }) };
}

export async function updateImageVersion(db: Db, actor: Actor, imageId: string, ref: VersionRef, input: unknown) {
  const data = parseInput(imageVersionUpdateSchema, input);
  await db.transaction(async (tx) => {
    const image = await getWritableImage(tx, actor, imageId);
    const version = await resolveVersion(tx, image, ref);
    if (!(await updateImageVersionNotes(tx, { imageId, version, notes: data.notes, arch: data.arch }))) throw new AppError("not_found", `Version ${version} of image ${image.name} does not exist.`);
    const what = [data.notes !== undefined ? "the notes" : null, data.arch !== undefined ? `the architecture (${data.arch})` : null].filter(Boolean).join(" and ");
    await recordAudit(tx, actor, { action: "image.version.update", targetType: "image", targetId: imageId, summary: `changed ${what} of ${image.name} version ${version}`, data: { version, ...(data.arch ? { arch: data.arch } : {}) } });
  });
  return getImageVersion(db, actor, imageId, ref);
}

/** Deletes one version and its bytes; 409 while a pending or running deployment uses it. */
export async function deleteImageVersion(db: Db, actor: Actor, imageId: string, ref: VersionRef): Promise<{ version: number }> {
  const removed = await db.transaction(async (tx) => {
    const image = await getWritableImage(tx, actor, imageId);
    await lockImage(tx, imageId);
    const version = await resolveVersion(tx, image, ref);
    const v = await lockImageVersion(tx, { imageId, version });
    if (!v) throw new AppError("not_found", `Version ${version} of image ${image.name} does not exist.`);
    const active = await countActiveDeploymentsOfVersion(tx, { imageId, version });
    if (active > 0) {
      throw new AppError("conflict", `Version ${version} of ${image.name} is in use by ${active} active deployment${active === 1 ? "" : "s"}; delete it when they have finished.`, { activeDeployments: active });
    }
    const upload = await getImageUploadOfVersion(tx, { imageId, version });
    await deleteImageVersionRow(tx, { imageId, version });
    await refreshLatestVersion(tx, imageId);
    await recordAudit(tx, actor, { action: "image.version.delete", targetType: "image", targetId: imageId, summary: `deleted ${image.name} version ${version}`, data: { version, sha256: v.sha256 } });
    return { version, blob: v.storageKey, upload: upload?.id };
  });
  await removeBytes(removed.blob ? [removed.blob] : [], removed.upload ? [removed.upload] : []);
  return { version: removed.version };
}

// Quotas

/**
 * A ready version whose stored bytes turned out bad (a capture's checksum, a re-check or the
 * scrub) fails, inside the caller's transaction: it loses its storage key, so nothing starts
 * a run of it or delivers it again, and `latest` moves to the newest version still ready. The
 * caller removes the blob once this has committed. Undefined: it was no longer ready.
 */
export async function failReadyVersion(tx: DbOrTx, p: { imageId: string; version: number; reason: string }): Promise<ImageVersionRow | undefined> {
  const row = await updateImageVersionFrom(tx, { imageId: p.imageId, version: p.version, from: "ready" }, { state: "failed", failureReason: p.reason, storageKey: null });
  if (row) await refreshLatestVersion(tx, p.imageId);
  return row;
}

function fmtGb(bytes: number): string {
  return `${(bytes / GB).toFixed(bytes < 10 * GB ? 3 : 1)} GB`;
}

/** Refuses (413) an upload of `length` bytes that would take the user or the project over quota. */
export async function assertStorageQuota(db: DbOrTx, p: { userId: string; projectId: string | null; length: number }): Promise<void> {
  await lockStorageAccount(db, `user:${p.userId}`);
  const userLimit = Math.floor(getEnv().KILN_STORAGE_QUOTA_PER_USER_GB * GB);
  const used = await userStorageBytes(db, p.userId);
  if (used + p.length > userLimit) {
    throw new AppError(
      "payload_too_large",
      `This upload (${fmtGb(p.length)}, ${p.length} bytes) would exceed your storage quota: you use ${fmtGb(used)} of ${fmtGb(userLimit)} (${used} of ${userLimit} bytes), ${fmtGb(Math.max(0, userLimit - used))} free. Delete old versions or ask an administrator.`,
      { quota: "user", usedBytes: used, limitBytes: userLimit, requestedBytes: p.length },
    );
  }
  if (!p.projectId) return;
  const project = await getProjectRow(db, p.projectId);
  if (!project || project.maxStorageGb === null) return;
  await lockStorageAccount(db, `project:${p.projectId}`);
  const projectLimit = project.maxStorageGb * GB;
  const projectUsed = await projectStorageBytes(db, p.projectId);
  if (projectUsed + p.length > projectLimit) {
    throw new AppError(
      "payload_too_large",
      `This upload (${fmtGb(p.length)}, ${p.length} bytes) would exceed the storage quota of project ${project.name}: it uses ${fmtGb(projectUsed)} of ${fmtGb(projectLimit)} (${projectUsed} of ${projectLimit} bytes), ${fmtGb(Math.max(0, projectLimit - projectUsed))} free.`,
      { quota: "project", usedBytes: projectUsed, limitBytes: projectLimit, requestedBytes: p.length },
    );
  }
}

/** Bytes a user may still add; used to refuse a qcow2 whose raw form would not fit. */
export async function remainingUserQuota(db: DbOrTx, userId: string): Promise<number> {
  return Math.floor(getEnv().KILN_STORAGE_QUOTA_PER_USER_GB * GB) - (await userStorageBytes(db, userId));
}

// Uploads (called by the tus hooks in ./uploads.ts)

export function uploadExpiry(now: Date): Date {
  return new Date(now.getTime() + getEnv().KILN_UPLOAD_EXPIRY_HOURS * 3600_000);
}

/**
 * A tus creation request: validates the metadata, checks the target image and the quotas,
 * and records the new version (state `uploading`) before the store creates any file.
 */
export async function beginImageUpload(db: Db, actor: Actor, p: { uploadId: string; length: number | undefined; metadata: Record<string, string | null> | undefined; now?: Date }) {
  if (!actor.user) throw new AppError("unauthorized", "Sign in to continue.");
  if (p.length === undefined) throw new AppError("bad_request", "Send Upload-Length: the size must be known up front so the storage quota can be checked before any byte is stored.");
  if (p.length <= 0) throw new AppError("bad_request", "An image cannot be empty (Upload-Length is 0).");
  const metadata = parseInput(uploadMetadataSchema, Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, v ?? ""])));
  const now = p.now ?? new Date();
  return db.transaction(async (tx) => {
    const image = await getWritableImage(tx, actor, metadata.imageId);
    await assertStorageQuota(tx, { userId: actor.user!.id, projectId: image.projectId, length: p.length! });
    const version = await nextImageVersion(tx, image.id);
    await insertImageVersion(tx, {
      imageId: image.id,
      version,
      state: "uploading",
      sizeBytes: p.length!,
      expectedSha256: metadata.sha256 ?? null,
      filename: metadata.filename,
      notes: metadata.notes ?? "",
      ...(metadata.arch ? { arch: metadata.arch } : {}),
      uploadedByUserId: actor.user!.id,
    });
    await insertImageUpload(tx, { id: p.uploadId, imageId: image.id, version, userId: actor.user!.id, projectId: image.projectId, lengthBytes: p.length!, expiresAt: uploadExpiry(now) });
    await recordAudit(tx, actor, { action: "image.upload", targetType: "image", targetId: image.id, summary: `started uploading ${image.name} version ${version} (${p.length} bytes)`, data: { version, uploadId: p.uploadId, filename: metadata.filename } });
    return { imageId: image.id, version };
  });
}

