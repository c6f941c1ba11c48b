// Seals small secrets (BMC passwords) at rest with AES-256-GCM. The key comes from
// KILN_SECRET_KEY, or is generated once into the data directory by the launcher.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { getSecretKey } from "./sign";

const VERSION = "v1";

function key(): Buffer {
  // Any string works as a key; hashing gives exactly 32 bytes.
  return createHash("sha256").update(getSecretKey()).digest();
}

export function sealJson(value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key(), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
}

export function openJson<T = unknown>(sealed: string): T {
  const [version, iv, tag, data] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || !data) throw new Error("not a sealed value");
  const decipher = createDecipheriv("aes-256-gcm", key(), Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  const plain = Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]);
  return JSON.parse(plain.toString("utf8")) as T;
}
