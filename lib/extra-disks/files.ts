// The sparse files behind extra disks. Each disk has its own file named by its id, so making
// and deleting are idempotent and a retry never touches another disk's bytes.
import { mkdir, open, rm, stat } from "node:fs/promises";
import path from "node:path";

export function diskFilePath(dir: string, diskId: string): string {
  return path.join(dir, `${diskId}.img`);
}

/**
 * Makes the file `sizeBytes` long without writing a byte (ftruncate: sparse, instant whatever
 * the size). An existing file of the right size is left as it is — the holder may have written
 * to it already; one of another size (a crash mid-way cannot make one) is refused.
 */
export async function createSparseFile(file: string, sizeBytes: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const existing = await stat(file).catch(() => null);
  if (existing) {
    if (existing.size === sizeBytes) return;
    if (existing.size !== 0) throw new Error(`${file} exists with ${existing.size} bytes instead of ${sizeBytes}`);
  }
  const fh = await open(file, "a", 0o600);
  try {
    await fh.truncate(sizeBytes);
  } finally {
    await fh.close();
  }
}

/** Deletes the file; one already gone is fine. */
export async function removeDiskFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** Bytes the file really occupies (sparse: only what was written), or null when it is absent. */
export async function allocatedBytes(file: string): Promise<number | null> {
  const s = await stat(file).catch(() => null);
  return s ? s.blocks * 512 : null;
}
