import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** 256-bit random secret, URL-safe. */
export function generateSecret(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** Secrets are high-entropy, so a plain sha256 is the right hash (no need for a slow KDF). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export const API_TOKEN_PREFIX = "kiln_pat_";
