// Parses an OpenSSH public key line strictly: templates later paste these into
// authorized_keys on machines, so a malformed or weak key must be refused here.
import { createHash } from "node:crypto";

export type ParsedSshKey = { type: string; publicKey: string; comment: string; fingerprint: string; bits?: number };

const KEY_TYPES = new Set([
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
]);

export const MIN_RSA_BITS = 2048;

class Reader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  bytes(): Buffer {
    if (this.off + 4 > this.buf.length) throw new Error("truncated");
    const len = this.buf.readUInt32BE(this.off);
    this.off += 4;
    if (len > this.buf.length - this.off) throw new Error("truncated");
    const out = this.buf.subarray(this.off, this.off + len);
    this.off += len;
    return out;
  }
  string(): string {
    return this.bytes().toString("latin1");
  }
  get isAtEnd(): boolean {
    return this.off === this.buf.length;
  }
}

function bitLength(mpint: Buffer): number {
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  if (i === mpint.length) return 0;
  return (mpint.length - i - 1) * 8 + (32 - Math.clz32(mpint[i]!));
}

/** Returns the parsed key, or an error message a person can act on. */
export function parseSshPublicKey(line: string): ParsedSshKey | { error: string } {
  const trimmed = line.trim();
  if (trimmed.includes("\n")) return { error: "Paste one key per entry (this text has several lines)." };
  if (/PRIVATE KEY/.test(trimmed)) return { error: "This is a private key. Paste the public key (the .pub file) and keep the private one secret." };
  const [type, b64, ...rest] = trimmed.split(/\s+/);
  if (!type || !b64) return { error: "A public key looks like “ssh-ed25519 AAAA… you@host”." };
  if (type === "ssh-dss") return { error: "DSA keys are no longer accepted by OpenSSH; use an Ed25519 key (ssh-keygen -t ed25519)." };
  if (!KEY_TYPES.has(type)) return { error: `Unsupported key type “${type.slice(0, 40)}”. Use ssh-ed25519, ecdsa-sha2-* or ssh-rsa.` };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return { error: "The key data is not valid base64; check that the whole key was copied." };
  const blob = Buffer.from(b64, "base64");
  let bits: number | undefined;
  try {
    const r = new Reader(blob);
    if (r.string() !== type) return { error: "The key data does not match its type; check that the whole key was copied." };
    if (type === "ssh-rsa") {
      r.bytes(); // e
      bits = bitLength(r.bytes());
      if (bits < MIN_RSA_BITS) return { error: `This RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required.` };
    } else if (type === "ssh-ed25519" || type === "sk-ssh-ed25519@openssh.com") {
      if (r.bytes().length !== 32) return { error: "The Ed25519 key data is damaged." };
      if (type.startsWith("sk-")) r.string();
    } else {
      const curve = r.string();
      if (!type.includes(curve)) return { error: "The key data does not match its type; check that the whole key was copied." };
      r.bytes();
      if (type.startsWith("sk-")) r.string();
    }
    if (!r.isAtEnd) return { error: "The key data has trailing bytes; check that the whole key was copied." };
  } catch {
    return { error: "The key data is cut short; check that the whole key was copied." };
  }
  const fingerprint = "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
  return { type, publicKey: `${type} ${b64}`, comment: rest.join(" ").slice(0, 200), fingerprint, bits };
}
