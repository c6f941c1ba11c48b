import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseSshPublicKey } from "./ssh-keys";

function sshString(b: Buffer | string): Buffer {
  const data = typeof b === "string" ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function ed25519Line(comment = "alice@lab"): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return `ssh-ed25519 ${Buffer.concat([sshString("ssh-ed25519"), sshString(raw)]).toString("base64")} ${comment}`;
}

function rsaLine(bits: number): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const jwk = publicKey.export({ format: "jwk" });
  const e = Buffer.from(jwk.e!, "base64url");
  const n = Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n!, "base64url")]);
  return `ssh-rsa ${Buffer.concat([sshString("ssh-rsa"), sshString(e), sshString(n)]).toString("base64")} bob`;
}

describe("parseSshPublicKey", () => {
  it("accepts an Ed25519 key and computes an OpenSSH-style fingerprint", () => {
    const parsed = parseSshPublicKey(ed25519Line());
    expect(parsed).toMatchObject({ type: "ssh-ed25519", comment: "alice@lab" });
    expect("fingerprint" in parsed && parsed.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("accepts a 2048-bit RSA key and refuses a 1024-bit one", () => {
    expect(parseSshPublicKey(rsaLine(2048))).toMatchObject({ type: "ssh-rsa", bits: 2048 });
    expect(parseSshPublicKey(rsaLine(1024))).toEqual({ error: expect.stringContaining("1024 bits") });
  });

  it("refuses private keys, DSA, unknown types, bad base64 and mismatched blobs", () => {
    expect(parseSshPublicKey("-----BEGIN OPENSSH PRIVATE KEY-----")).toEqual({ error: expect.stringContaining("private key") });
    expect(parseSshPublicKey("ssh-dss AAAAB3NzaC1kc3M= x")).toEqual({ error: expect.stringContaining("DSA") });
    expect(parseSshPublicKey("ssh-foo AAAA x")).toEqual({ error: expect.stringContaining("Unsupported") });
    expect(parseSshPublicKey("ssh-ed25519 not*base64")).toEqual({ error: expect.stringContaining("base64") });
    const rsaBlob = rsaLine(2048).split(" ")[1];
    expect(parseSshPublicKey(`ssh-ed25519 ${rsaBlob}`)).toEqual({ error: expect.stringContaining("does not match") });
  });

  it("refuses a truncated key", () => {
    const [type, b64] = ed25519Line().split(" ");
    const cut = Buffer.from(b64!, "base64").subarray(0, 30).toString("base64");
    expect(parseSshPublicKey(`${type} ${cut}`)).toEqual({ error: expect.stringContaining("cut short") });
  });
});
