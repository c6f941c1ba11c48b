import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  generateKeyPair,
  parseWireGuardKey,
  publicKeyOf,
  renderClientConfig,
  stripWgQuickLines,
  wireGuardKeyError,
} from "./wireguard";

const hasWg = ["/usr/bin/wg", "/usr/sbin/wg"].some(existsSync);

describe("generateKeyPair / publicKeyOf", () => {
  it("makes 32-byte base64 keys whose public half follows from the private one", () => {
    const pair = generateKeyPair();
    expect(Buffer.from(pair.privateKey, "base64")).toHaveLength(32);
    expect(Buffer.from(pair.publicKey, "base64")).toHaveLength(32);
    expect(wireGuardKeyError(pair.privateKey)).toBeNull();
    expect(publicKeyOf(pair.privateKey)).toBe(pair.publicKey);
    expect(generateKeyPair().privateKey).not.toBe(pair.privateKey);
  });

  it("clamps the private key as wg genkey does", () => {
    const raw = Buffer.from(generateKeyPair().privateKey, "base64");
    expect(raw[0]! & 7).toBe(0);
    expect(raw[31]! & 0xc0).toBe(0x40);
  });

  it("matches RFC 7748's test vector", () => {
    const alicePrivate = Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex");
    const alicePublic = Buffer.from("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "hex");
    expect(publicKeyOf(alicePrivate.toString("base64"))).toBe(alicePublic.toString("base64"));
  });

  it.skipIf(!hasWg)("agrees with wg pubkey", () => {
    const pair = generateKeyPair();
    expect(execFileSync("wg", ["pubkey"], { input: pair.privateKey + "\n" }).toString().trim()).toBe(pair.publicKey);
    const fromWg = execFileSync("wg", ["genkey"]).toString().trim();
    const pubFromWg = execFileSync("wg", ["pubkey"], { input: fromWg + "\n" }).toString().trim();
    expect(publicKeyOf(fromWg)).toBe(pubFromWg);
  });
});

describe("parseWireGuardKey", () => {
  it("accepts a key with surrounding whitespace and returns it trimmed", () => {
    const { publicKey } = generateKeyPair();
    expect(parseWireGuardKey(`  ${publicKey}\n`)).toBe(publicKey);
  });

  it.each([
    ["", /Enter/],
    ["abc", /44 characters/],
    ["A".repeat(44), /44 characters/],
    [Buffer.alloc(31, 7).toString("base64"), /44 characters/],
    [Buffer.alloc(33, 7).toString("base64"), /44 characters/],
    [Buffer.alloc(32, 7).toString("base64url"), /44 characters/],
    // 43rd character carries bits a 32-byte key cannot have.
    ["B".repeat(42) + "B=", /44 characters/],
    [Buffer.alloc(32).toString("base64"), /all zeros/],
  ])("refuses %j with a clear message", (text, message) => {
    expect(wireGuardKeyError(text)).toMatch(message);
    expect(() => parseWireGuardKey(text)).toThrow(message);
  });
});

describe("renderClientConfig", () => {
  const base = {
    address: "10.250.0.7",
    serverPublicKey: "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
    endpoint: "vpn.lab.example:51820",
    allowedIps: ["10.0.0.0/8", "192.168.5.0/24"],
  };

  it("renders the wg-quick file with the private key", () => {
    const pair = generateKeyPair();
    expect(renderClientConfig({ ...base, privateKey: pair.privateKey, dns: "10.0.0.53" })).toBe(
      [
        "[Interface]",
        `PrivateKey = ${pair.privateKey}`,
        "Address = 10.250.0.7/32",
        "DNS = 10.0.0.53",
        "",
        "[Peer]",
        "PublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
        "Endpoint = vpn.lab.example:51820",
        "AllowedIPs = 10.0.0.0/8, 192.168.5.0/24",
        "PersistentKeepalive = 25",
        "",
      ].join("\n"),
    );
  });

  it("puts a placeholder where the browser-held private key goes, and no DNS line without DNS", () => {
    const conf = renderClientConfig(base);
    expect(conf).toMatch(/^PrivateKey = <paste this device's private key here>$/m);
    expect(conf).not.toMatch(/DNS/);
  });

  it("strips the wg-quick-only lines for wg setconf", () => {
    const conf = renderClientConfig({ ...base, privateKey: generateKeyPair().privateKey, dns: "10.0.0.53" });
    const stripped = stripWgQuickLines(conf);
    expect(stripped).not.toMatch(/Address|DNS/);
    expect(stripped).toMatch(/^PrivateKey = /m);
    expect(stripped).toMatch(/^PersistentKeepalive = 25$/m);
  });
});
