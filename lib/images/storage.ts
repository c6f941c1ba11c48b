// Where image bytes live. Two backends behind one small interface, chosen by
// KILN_IMAGE_STORAGE: the local filesystem under KILN_DATA_DIR (the default, and what nginx
// can serve with sendfile), or an S3-compatible bucket (the scale-out path: several web
// processes share it). Every key is built here from server-chosen ids; nothing a client
// sends ever becomes part of a path.
import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createRequire } from "node:module";
import type * as S3Client from "@aws-sdk/client-s3";
import type * as S3Presigner from "@aws-sdk/s3-request-presigner";
import { FileStore } from "@tus/file-store";
import type * as TusS3 from "@tus/s3-store";
import { Upload, type DataStore } from "@tus/utils";
import { getEnv, type Env } from "../env";
import { BLOB_READ_CHUNK } from "./send-file";

export type ByteRange = { start: number; end: number };

export type ImageStorage = {
  kind: "file" | "s3";
  /** The tus datastore uploads are written to (files named by upload id). */
  datastore: DataStore;
  /** Bytes of an upload so far, or null when the store has no such upload. */
  uploadedBytes(uploadId: string): Promise<number | null>;
  /** A local file to read an upload from, downloading it first for S3; `release` removes any temporary copy. */
  localCopyOfUpload(uploadId: string): Promise<{ path: string; release: () => Promise<void> }>;
  /**
   * Where a previous verification run already moved this version's upload (it stopped before
   * recording it): the key, path and size; null when there is none, or for backends where
   * adopting moves nothing.
   */
  findAdopted(imageId: string, version: number): Promise<{ key: string; path: string; size: number } | null>;
  /** Makes a finished upload the blob of a version; returns its storage key. */
  adoptUpload(uploadId: string, imageId: string, version: number): Promise<string>;
  /** Stores a local file (a converted image) as the blob of a version; returns its storage key. */
  putFile(file: string, imageId: string, version: number): Promise<string>;
  /** Deletes an upload's bytes and bookkeeping; missing is fine. */
  removeUpload(uploadId: string): Promise<void>;
  /** Deletes a blob; missing is fine. */
  removeBlob(key: string): Promise<void>;
  /** Size of a blob, or null when it is missing. */
  blobSize(key: string): Promise<number | null>;
  /** A stream of a blob's bytes (inclusive range). */
  readBlob(key: string, range?: ByteRange): Promise<Readable>;
  /** The blob's path on this machine (file backend only): for nginx X-Accel-Redirect and sendfile. */
  localBlobPath(key: string): string | null;
  /** A short-lived URL that GETs the blob straight from the bucket (S3 only; null for files). */
  presignBlob(key: string, p: { expiresInSeconds: number; filename: string }): Promise<string | null>;
  /** A directory for temporary files of verification and conversion. */
  tmpDir: string;
};

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9/_.-]*$/;

function assertKey(key: string): void {
  // Keys come from our own ids; this only guards against a bug turning them into a path escape.
  if (!SAFE_KEY.test(key) || key.split("/").includes("..")) throw new Error(`invalid storage key ${JSON.stringify(key)}`);
}

function uploadExpiryMs(env: Env): number {
  return Math.round(env.KILN_UPLOAD_EXPIRY_HOURS * 3600_000);
}

export function imagesRoot(env: Env = getEnv()): string {
  return path.join(env.dataDir, "images");
}

function createFileStorage(env: Env): ImageStorage {
  const root = imagesRoot(env);
  const uploadsDir = path.join(root, "uploads");
  const blobsDir = path.join(root, "blobs");
  const tmpDir = path.join(root, "tmp");
  for (const d of [uploadsDir, blobsDir, tmpDir]) fs.mkdirSync(d, { recursive: true, mode: 0o750 });
  const datastore = new FileStore({ directory: uploadsDir, expirationPeriodInMilliseconds: uploadExpiryMs(env) });
  const uploadPath = (id: string) => {
    assertKey(id);
    return path.join(uploadsDir, id);
  };
  const blobPath = (key: string) => {
    assertKey(key);
    return path.join(root, key);
  };
  const place = async (imageId: string, version: number, move: (target: string) => Promise<void>) => {
    const key = `blobs/${imageId}/${version}`;
    const target = blobPath(key);
    await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o750 });
    await move(target);
    return key;
  };
  return {
    kind: "file",
    datastore,
    tmpDir,
    async uploadedBytes(id) {
      try {
        return (await fsp.stat(uploadPath(id))).size;
      } catch {
        return null;
      }
    },
    async localCopyOfUpload(id) {
      return { path: uploadPath(id), release: async () => {} };
    },
    async findAdopted(imageId, version) {
      const key = `blobs/${imageId}/${version}`;
      try {
        return { key, path: blobPath(key), size: (await fsp.stat(blobPath(key))).size };
      } catch {
        return null;
      }
    },
    // A rename in the same filesystem: gigabytes change place without being copied.
    async adoptUpload(id, imageId, version) {
      const key = await place(imageId, version, (target) => fsp.rename(uploadPath(id), target));
      await fsp.rm(`${uploadPath(id)}.json`, { force: true });
      return key;
    },
    async putFile(file, imageId, version) {
      return place(imageId, version, (target) => fsp.rename(file, target));
    },
    async removeUpload(id) {
      await fsp.rm(uploadPath(id), { force: true });
      await fsp.rm(`${uploadPath(id)}.json`, { force: true });
    },
    async removeBlob(key) {
      await fsp.rm(blobPath(key), { force: true });
    },
    async blobSize(key) {
      try {
        return (await fsp.stat(blobPath(key))).size;
      } catch {
        return null;
      }
    },
    async readBlob(key, range) {
      return fs.createReadStream(blobPath(key), { start: range?.start, end: range?.end, highWaterMark: BLOB_READ_CHUNK });
    },
    localBlobPath(key) {
      return blobPath(key);
    },
    async presignBlob() {
      return null;
    },
  };
}

/** Part size of an upload whose length is deferred (a disk capture): 10,000 parts ≈ 625 GiB. */
const DEFERRED_PART_BYTES = 64 * 1024 * 1024;

// The S3 packages (the AWS SDK: ~30 MB in every process that loads it) are loaded only when S3
// storage is configured, synchronously since getImageStorage is; the name is not `require`, so
// the bundler leaves the call alone (scripts/bundle.mjs).
const loadPackage = createRequire(import.meta.url);

function s3Packages() {
  return {
    S3Store: (loadPackage("@tus/s3-store") as typeof TusS3).S3Store,
    GetObjectCommand: (loadPackage("@aws-sdk/client-s3") as typeof S3Client).GetObjectCommand,
    getSignedUrl: (loadPackage("@aws-sdk/s3-request-presigner") as typeof S3Presigner).getSignedUrl,
  };
}

type KilnS3Store = InstanceType<ReturnType<typeof defineKilnS3Store>>;

/** S3Store with ranged reads and plain object puts, which tus itself does not need. */
function defineKilnS3Store() {
  const { S3Store, GetObjectCommand, getSignedUrl } = s3Packages();
  return class KilnS3Store extends S3Store {
    // tus sizes the parts of a deferred-length upload for its 5 TiB maximum (~550 MB each), so
    // every 32 MiB capture chunk would become an "incomplete part" object re-read by the next
    // PATCH, up to 550 MB each time. Fixed 64 MiB parts keep that re-read under one part.
    override calcOptimalPartSize(size?: number): number {
      return size === undefined ? DEFERRED_PART_BYTES : super.calcOptimalPartSize(size);
    }

    constructor(options: ConstructorParameters<typeof TusS3.S3Store>[0]) {
      super(options);
      // DeleteObjects must carry a checksum. The AWS SDK now sends a CRC32 instead of the
      // Content-MD5 that S3 asked for until 2025, and S3-compatible services that predate the
      // change (Swift's s3api, older Ceph RGW and MinIO) refuse the request without it; tus
      // deletes an upload's objects with it. Both are sent: S3 checks either.
      this.client.middlewareStack.add(
        (next, context) => async (args) => {
          const request = args.request as { headers?: Record<string, string>; body?: unknown };
          if (context.commandName === "DeleteObjectsCommand" && request.headers && typeof request.body === "string") {
            request.headers["content-md5"] = createHash("md5").update(request.body).digest("base64");
          }
          return next(args);
        },
        { step: "build", name: "kilnDeleteObjectsContentMd5" },
      );
    }

    async readRange(key: string, range?: ByteRange): Promise<Readable> {
      const res = await this.client.getObject({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined });
      return res.Body as Readable;
    }

    /** The bucket answers Range, If-Range and HEAD-less GETs itself; the signature covers GET only. */
    async presignGet(key: string, p: { expiresInSeconds: number; filename: string }): Promise<string> {
      const command = new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: `attachment; filename="${p.filename}"`, ResponseContentType: "application/octet-stream" });
      return getSignedUrl(this.client, command, { expiresIn: p.expiresInSeconds });
    }

    async size(key: string): Promise<number | null> {
      try {
        return (await this.client.headObject({ Bucket: this.bucket, Key: key })).ContentLength ?? null;
      } catch {
        return null;
      }
    }

    /**
     * Everything stored under an upload id: an unfinished multipart upload is aborted (tus's
     * remove), then the object, its `.info` and a pending `.part` are deleted — tus's remove
     * alone stops at the abort when the multipart upload was already completed, which would
     * leave a finished upload's gigabytes behind. Missing objects are fine.
     */
    async purge(key: string): Promise<void> {
      await this.remove(key).catch(() => {});
      await this.client.deleteObjects({ Bucket: this.bucket, Delete: { Objects: [key, `${key}.info`, `${key}.part`].map((Key) => ({ Key })), Quiet: true } });
    }
  };
}

function createS3Storage(env: Env): ImageStorage {
  const tmpDir = path.join(imagesRoot(env), "tmp");
  fs.mkdirSync(tmpDir, { recursive: true, mode: 0o750 });
  const KilnS3Store = defineKilnS3Store();
  const store: KilnS3Store = new KilnS3Store({
    expirationPeriodInMilliseconds: uploadExpiryMs(env),
    // Tags (Tus-Completed=false) only serve bucket lifecycle rules, and Kiln expires uploads
    // itself (housekeeping); several S3 implementations (Swift's s3api among them) refuse them.
    useTags: false,
    s3ClientConfig: {
      // Checksums only when an operation requires one: otherwise the SDK streams part bodies
      // as aws-chunked with a trailing CRC, which many S3-compatible services do not speak
      // (Swift's s3api: "using aws-chunked is not supported"). Integrity does not depend on it:
      // the verifier hashes every byte that arrived.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      bucket: env.KILN_S3_BUCKET!,
      region: env.KILN_S3_REGION,
      endpoint: env.KILN_S3_ENDPOINT,
      forcePathStyle: env.KILN_S3_FORCE_PATH_STYLE,
      credentials: env.KILN_S3_ACCESS_KEY_ID && env.KILN_S3_SECRET_ACCESS_KEY ? { accessKeyId: env.KILN_S3_ACCESS_KEY_ID, secretAccessKey: env.KILN_S3_SECRET_ACCESS_KEY } : undefined,
    },
  });
  const downloadTo = async (key: string) => {
    const file = path.join(tmpDir, `dl-${key.replace(/\//g, "_")}-${process.pid}-${Date.now()}`);
    await pipeline(await store.readRange(key), fs.createWriteStream(file));
    return file;
  };
  return {
    kind: "s3",
    datastore: store,
    tmpDir,
    async uploadedBytes(id) {
      assertKey(id);
      try {
        return (await store.getUpload(id)).offset;
      } catch {
        return null;
      }
    },
    async localCopyOfUpload(id) {
      assertKey(id);
      const file = await downloadTo(id);
      return { path: file, release: () => fsp.rm(file, { force: true }) };
    },
    async findAdopted() {
      return null;
    },
    // The finished multipart object stays where tus put it (key = upload id): no copy of gigabytes.
    async adoptUpload(id) {
      assertKey(id);
      return id;
    },
    // Written through the tus store, which does the multipart upload of a large file.
    async putFile(file, imageId, version) {
      const key = `blobs-${imageId}-${version}-${Date.now().toString(36)}`;
      const size = (await fsp.stat(file)).size;
      await store.create(new Upload({ id: key, size, offset: 0, metadata: {} }));
      await store.write(fs.createReadStream(file), key, 0);
      await fsp.rm(file, { force: true });
      return key;
    },
    async removeUpload(id) {
      assertKey(id);
      await store.purge(id);
    },
    async removeBlob(key) {
      assertKey(key);
      await store.purge(key);
    },
    async blobSize(key) {
      assertKey(key);
      return store.size(key);
    },
    async readBlob(key, range) {
      assertKey(key);
      return store.readRange(key, range);
    },
    localBlobPath() {
      return null;
    },
    async presignBlob(key, p) {
      assertKey(key);
      return store.presignGet(key, p);
    },
  };
}

/** A storage of its own, sharing nothing in memory with the process's (what a second web process would have). */
export function createImageStorage(env: Env = getEnv()): ImageStorage {
  return env.KILN_IMAGE_STORAGE === "s3" ? createS3Storage(env) : createFileStorage(env);
}

const globalForStorage = globalThis as unknown as { kilnImageStorage?: { dataDir: string; kind: string; storage: ImageStorage } };

/** The storage of this process, made once per data directory and backend (tests switch both). */
export function getImageStorage(): ImageStorage {
  const env = getEnv();
  const cached = globalForStorage.kilnImageStorage;
  if (cached && cached.dataDir === env.dataDir && cached.kind === env.KILN_IMAGE_STORAGE) return cached.storage;
  const storage = createImageStorage(env);
  globalForStorage.kilnImageStorage = { dataDir: env.dataDir, kind: env.KILN_IMAGE_STORAGE, storage };
  return storage;
}

/** Reads a file's first bytes (format detection needs the first 36 KiB: the ISO descriptor is at 32 KiB). */
export async function readHead(file: string, bytes = 36 * 1024): Promise<Buffer> {
  const fh = await fsp.open(file, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

