// WireGuard key handling and the client configuration file (wg-quick format). Pure: no DB, no env.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { AppError } from "../errors";

export type WireGuardKeyPair = { privateKey: string; publicKey: string };

// PKCS#8 DER header of an X25519 private key; the 32 raw key bytes follow it (RFC 8410).
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const KEY_TEXT = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

function base64urlToBase64(s: string): string {
  return Buffer.from(s, "base64url").toString("base64");
}

/** A fresh key pair, both halves base64 of the raw 32 bytes as `wg genkey`/`wg pubkey` print them. */
export function generateKeyPair(): WireGuardKeyPair {
  const { privateKey } = generateKeyPairSync("x25519");
  const jwk = privateKey.export({ format: "jwk" });
  const raw = Buffer.from(jwk.d!, "base64url");
  // Clamp as `wg genkey` does; X25519 clamps anyway, so the public key is the same either way.
  raw[0]! &= 248;
  raw[31]! &= 127;
  raw[31]! |= 64;
  return { privateKey: raw.toString("base64"), publicKey: base64urlToBase64(jwk.x!) };
}

/** The public key of a base64 private key (what `wg pubkey` prints). */
export function publicKeyOf(privateKey: string): string {
  const raw = Buffer.from(parseWireGuardKey(privateKey), "base64");
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
  return base64urlToBase64(createPublicKey(key).export({ format: "jwk" }).x!);
}

/** Why the text is not a WireGuard key, or null when it is one. */
export function wireGuardKeyError(text: string): string | null {
  const t = text.trim();
  if (!t) return "Enter the device's WireGuard public key.";
  if (!KEY_TEXT.test(t)) {
    return "A WireGuard key is 44 characters of base64 ending in '=' (32 bytes), as `wg pubkey` prints it.";
  }
  if (Buffer.from(t, "base64").every((b) => b === 0)) return "That key is all zeros, which WireGuard refuses.";
  return null;
}

/** The key, trimmed, when it is base64 of exactly 32 bytes; else a validation AppError saying why. */
export function parseWireGuardKey(text: string): string {
  const error = wireGuardKeyError(text);
  if (error) throw new AppError("validation", error);
  return text.trim();
}

export type ClientConfigInput = {
  /** Absent when the key pair was made in the browser: the file then carries a placeholder to replace. */
  privateKey?: string;
  /** The device's tunnel address (IPv4, no prefix). */
  address: string;
  serverPublicKey: string;
  /** host:port of the gateway. */
  endpoint: string;
  allowedIps: string[];
  dns?: string;
};

// Deliberately not a valid key: wg-quick refuses the file loudly until the person pastes theirs.
export const PRIVATE_KEY_PLACEHOLDER = "<paste this device's private key here>";

/** The client's wg-quick file (also what the QR code carries). */
export function renderClientConfig(input: ClientConfigInput): string {
  const lines = [
    "[Interface]",
    `PrivateKey = ${input.privateKey ?? PRIVATE_KEY_PLACEHOLDER}`,
    `Address = ${input.address}/32`,
  ];
  if (input.dns?.trim()) lines.push(`DNS = ${input.dns.trim()}`);
  lines.push(
    "",
    "[Peer]",
    `PublicKey = ${input.serverPublicKey}`,
    `Endpoint = ${input.endpoint}`,
    `AllowedIPs = ${input.allowedIps.join(", ")}`,
    // Keeps NAT mappings on the person's side open so the lab can answer.
    "PersistentKeepalive = 25",
    "",
  );
  return lines.join("\n");
}

/**
 * The file without the wg-quick-only lines (Address, DNS, MTU, Table, Pre/PostUp…), i.e. what
 * `wg setconf` accepts — as `wg-quick strip` prints it.
 */
export function stripWgQuickLines(conf: string): string {
  const wgQuickOnly = /^\s*(Address|DNS|MTU|Table|PreUp|PostUp|PreDown|PostDown|SaveConfig)\s*=/i;
  return conf
    .split("\n")
    .filter((l) => !wgQuickOnly.test(l))
    .join("\n");
}
