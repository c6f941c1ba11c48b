// Where an image's boot partition starts: the first FAT partition of an MBR disk (what Raspberry
// Pi images are: type 0x0c), else the first EFI-system or basic-data partition of a GPT disk.
// Pure: given the first sectors of the image, returns a byte offset or why there is none.

const SECTOR = 512;
const FAT_TYPES = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e, 0xef]);
// GPT type GUIDs as stored on disk (mixed-endian), hex.
const ESP = "28732ac11ff8d211ba4b00a0c93ec93b";
const BASIC_DATA = "a2a0d0ebe5b9334487c068b6b72699c7";

export type BootPartition = { ok: true; offset: number; sizeBytes: number } | { ok: false; reason: string };

/** `head`: at least the first 34 sectors (MBR, GPT header and the first 128 entries). */
export function findBootPartition(head: Buffer): BootPartition {
  if (head.length < SECTOR || head[510] !== 0x55 || head[511] !== 0xaa) return { ok: false, reason: "no partition table (the image does not start with an MBR)" };
  const entries = [0, 1, 2, 3].map((i) => {
    const at = 446 + i * 16;
    return { type: head[at + 4]!, start: head.readUInt32LE(at + 8), sectors: head.readUInt32LE(at + 12) };
  });
  if (entries.some((e) => e.type === 0xee)) return findGptBoot(head);
  const fat = entries.find((e) => FAT_TYPES.has(e.type) && e.start > 0 && e.sectors > 0);
  if (!fat) return { ok: false, reason: "no FAT partition in the MBR" };
  return { ok: true, offset: fat.start * SECTOR, sizeBytes: fat.sectors * SECTOR };
}

function findGptBoot(head: Buffer): BootPartition {
  if (head.length < 2 * SECTOR || head.toString("latin1", SECTOR, SECTOR + 8) !== "EFI PART") return { ok: false, reason: "a protective MBR without a GPT header" };
  const entriesLba = Number(head.readBigUInt64LE(SECTOR + 72));
  const count = head.readUInt32LE(SECTOR + 80);
  const size = head.readUInt32LE(SECTOR + 84);
  if (size < 128) return { ok: false, reason: "a GPT with malformed entries" };
  for (let i = 0; i < Math.min(count, 128); i++) {
    const at = entriesLba * SECTOR + i * size;
    if (at + 48 > head.length) break;
    const type = head.toString("hex", at, at + 16);
    if (type === ESP || type === BASIC_DATA) {
      const first = Number(head.readBigUInt64LE(at + 32));
      const last = Number(head.readBigUInt64LE(at + 40));
      return { ok: true, offset: first * SECTOR, sizeBytes: (last - first + 1) * SECTOR };
    }
  }
  return { ok: false, reason: "no EFI-system or basic-data partition in the GPT" };
}

/** How many bytes of an image findBootPartition needs. */
export const BOOT_PARTITION_HEAD_BYTES = 34 * SECTOR;
