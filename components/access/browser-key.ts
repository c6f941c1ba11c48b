// WireGuard key pairs made in the browser with WebCrypto's X25519, so the private key never
// leaves the page: Kiln is sent the public key only, and the page writes the private one into
// the file it saves. Both halves are base64 of the raw 32 bytes, as `wg genkey`/`wg pubkey` print them.

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function base64UrlToBytes(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** True when this browser's WebCrypto has X25519 (Chrome 133+, Firefox 130+, Safari 17+). */
export async function isBrowserKeySupported(): Promise<boolean> {
  try {
    await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
    return true;
  } catch {
    return false;
  }
}

export async function generateBrowserKeyPair(): Promise<{ privateKey: string; publicKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const privateRaw = base64UrlToBytes(jwk.d!);
  if (publicRaw.length !== 32 || privateRaw.length !== 32) throw new Error("This browser made an X25519 key of an unexpected size.");
  // Clamped as `wg genkey` does; X25519 clamps when it uses the key, so the public key is the same.
  privateRaw[0]! &= 248;
  privateRaw[31]! &= 127;
  privateRaw[31]! |= 64;
  return { privateKey: toBase64(privateRaw), publicKey: toBase64(publicRaw) };
}

/** The file Kiln rendered, with the browser's private key in place of its placeholder line. */
export function withPrivateKey(config: string, privateKey: string): string {
  return config.replace(/^PrivateKey = .*$/m, `PrivateKey = ${privateKey}`);
}
