// The names a Raspberry Pi's network boot asks TFTP for: `<serial>/<file>`, the serial being the
// 8 hex digits of the board's serial number (config: TFTP_PREFIX=0, the default), the file a
// boot partition path (start4.elf, config.txt, cmdline.txt, kernel8.img, overlays/…dtbo).
// Anything else — absolute, `..`, backslashes, control bytes, over-long — is refused here, before
// any lookup, so no request can name a file outside the version's boot partition.

export const MAX_PI_PATH = 255;
const SERIAL = /^[0-9a-f]{8}$/;
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;

export type PiPath = { ok: true; serial: string; file: string } | { ok: false; reason: "refused" | "not-pi"; message: string };

/** A serial as Kiln stores it (lower-case hex), or null. Boards print it with leading zeros or `10000000…`; TFTP asks the last 8 digits. */
export function normalizePiSerial(raw: string): string | null {
  const s = raw.trim().toLowerCase().replace(/^0x/, "");
  const last = s.length > 8 && /^[0-9a-f]+$/.test(s) ? s.slice(-8) : s;
  return SERIAL.test(last) ? last : null;
}

export function parsePiPath(raw: string): PiPath {
  if (raw.length > MAX_PI_PATH) return { ok: false, reason: "refused", message: "file name too long" };
  if (/[\x00-\x1f\x7f\\]/.test(raw)) return { ok: false, reason: "refused", message: "bad characters in file name" };
  if (raw.startsWith("/")) return { ok: false, reason: "refused", message: "absolute paths are not served" };
  const parts = raw.split("/");
  if (parts.some((p) => p === ".." || p === ".")) return { ok: false, reason: "refused", message: "relative path segments are not served" };
  const [first, ...rest] = parts;
  if (!first || !SERIAL.test(first.toLowerCase()) || rest.length === 0) return { ok: false, reason: "not-pi", message: "File not found" };
  if (!rest.every((p) => SEGMENT.test(p))) return { ok: false, reason: "refused", message: "bad file name" };
  return { ok: true, serial: first.toLowerCase(), file: rest.join("/") };
}
