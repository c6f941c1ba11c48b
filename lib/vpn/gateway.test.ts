import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../env";
import {
  GATEWAY_PEERS_FILE,
  GATEWAY_RULES_FILE,
  renderGatewayNftables,
  renderGatewayPeers,
  requireGatewayToken,
  writeGatewayFiles,
  type GatewayDevice,
} from "./gateway";

const KEY_A = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
const KEY_B = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

const alice: GatewayDevice = {
  deviceId: "d1",
  deviceName: "laptop\n[Peer] injected",
  publicKey: KEY_A,
  address: "10.250.0.10",
  userEmail: "alice@lab.example",
  userName: "Alice",
  held: [
    { hostName: "node-b", address: "10.77.1.20" },
    { hostName: "node-a", address: "10.77.1.3" },
    // A boot request's source seen through a relay: outside the machines' networks, left out.
    { hostName: "node-a", address: "192.0.2.1" },
  ],
};
const bob: GatewayDevice = { deviceId: "d2", deviceName: "phone", publicKey: KEY_B, address: "10.250.0.9", userEmail: "bob@lab.example", userName: "", held: [] };

describe("renderGatewayPeers", () => {
  it("renders one [Peer] per device, sorted by address, with one-line comments", () => {
    expect(renderGatewayPeers([alice, bob])).toBe(
      [
        "# Kiln's WireGuard peers for the lab gateway (generated: the next sync replaces this file).",
        "# Prepend the gateway's [Interface] section (PrivateKey, ListenPort), then: wg syncconf wg0 <file>",
        "# 2 devices",
        "",
        "[Peer]",
        "# bob@lab.example — phone",
        `PublicKey = ${KEY_B}`,
        "AllowedIPs = 10.250.0.9/32",
        "",
        "[Peer]",
        "# Alice <alice@lab.example> — laptop [Peer] injected",
        `PublicKey = ${KEY_A}`,
        "AllowedIPs = 10.250.0.10/32",
        "",
      ].join("\n"),
    );
  });

  it("leaves out a row wg would refuse, rather than the whole file", () => {
    const broken = { ...bob, deviceId: "d3", publicKey: "not a key", address: "10.250.0.11" };
    const noAddress = { ...bob, deviceId: "d4", publicKey: KEY_A, address: "10.250.0" };
    expect(renderGatewayPeers([alice, bob, broken, noAddress])).toBe(renderGatewayPeers([alice, bob]));
    expect(renderGatewayNftables([alice, broken, noAddress], { vpnRange: "10.250.0.0/24", allowedIps: "10.77.0.0/16", followLeases: false })).toMatch(/ip saddr 10\.250\.0\.10 ip daddr/);
  });

  it("is the same text whatever the order of its input", () => {
    expect(renderGatewayPeers([bob, alice])).toBe(renderGatewayPeers([alice, bob]));
    expect(renderGatewayPeers([])).toMatch(/# 0 devices\n$/);
  });
});

describe("renderGatewayNftables", () => {
  const opts = { vpnRange: "10.250.0.0/24", allowedIps: "10.77.0.0/16, 10.78.0.0/16" };

  it("following leases: each device reaches the held addresses inside the machines' networks, nothing else", () => {
    const text = renderGatewayNftables([alice, bob], { ...opts, followLeases: true });
    expect(text).toBe(
      [
        "#!/usr/sbin/nft -f",
        "# Kiln's VPN forwarding rules for the lab gateway (generated: the next sync replaces this file).",
        "# Following leases: yes, each device reaches the machines its owner holds.",
        "table inet kiln_vpn",
        "delete table inet kiln_vpn",
        "",
        "table inet kiln_vpn {",
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy accept;",
        "\t\tip daddr 10.250.0.0/24 ct state established,related accept",
        "\t\tip daddr 10.250.0.0/24 counter drop comment \"no new connections to people's devices\"",
        "\t\t# bob@lab.example — phone: holds no machine",
        "\t\t# Alice <alice@lab.example> — laptop [Peer] injected: node-a, node-b",
        "\t\tip saddr 10.250.0.10 ip daddr { 10.77.1.3, 10.77.1.20 } accept",
        "\t\tip saddr 10.250.0.0/24 counter drop comment \"anything else from the VPN\"",
        "\t}",
        "}",
        "",
      ].join("\n"),
    );
    expect(renderGatewayNftables([bob, alice], { ...opts, followLeases: true })).toBe(text);
  });

  it("not following leases: the devices reach the machines' networks", () => {
    const text = renderGatewayNftables([alice, bob], { ...opts, vpnRange: "10.250.0.7/24", followLeases: false });
    expect(text).toMatch(/^\t\tip saddr \{ 10\.250\.0\.9, 10\.250\.0\.10 \} ip daddr \{ 10\.77\.0\.0\/16, 10\.78\.0\.0\/16 \} accept$/m);
    expect(text).toMatch(/^\t\tip saddr 10\.250\.0\.0\/24 counter drop/m);
    expect(text).not.toMatch(/10\.77\.1\.3/);
    expect(renderGatewayNftables([], { ...opts, followLeases: false })).not.toMatch(/10\.77/);
  });

  it("refuses a malformed range", () => {
    expect(() => renderGatewayNftables([], { ...opts, vpnRange: "10.250.0.0/40", followLeases: true })).toThrow(/not an IPv4 address range/);
  });
});

describe("requireGatewayToken", () => {
  const TOKEN = "gateway-token-0123456789abcdef";
  const base = { KILN_VPN_ENDPOINT: "vpn.lab.example:51820", KILN_VPN_SERVER_PUBLIC_KEY: KEY_A };
  const bearer = (t: string) => new Headers({ authorization: `Bearer ${t}` });

  it("answers 404 while WireGuard or the token is not configured", () => {
    expect(() => requireGatewayToken(bearer(TOKEN), parseEnv({}))).toThrow(/WireGuard is not configured/);
    expect(() => requireGatewayToken(bearer(TOKEN), parseEnv(base))).toThrow(/set KILN_VPN_GATEWAY_TOKEN/);
  });

  it("accepts the token only", () => {
    const env = parseEnv({ ...base, KILN_VPN_GATEWAY_TOKEN: TOKEN });
    expect(() => requireGatewayToken(bearer(TOKEN), env)).not.toThrow();
    expect(() => requireGatewayToken(bearer(`${TOKEN}x`), env)).toThrow(/not the gateway token/);
    expect(() => requireGatewayToken(new Headers(), env)).toThrow(/Send the gateway token/);
    expect(() => requireGatewayToken(new Headers({ authorization: TOKEN }), env)).toThrow(/Send the gateway token/);
  });
});

describe("writeGatewayFiles", () => {
  it("writes only what changed, and clears temporaries a crash left behind (old ones only)", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-gw-"));
    try {
      const stale = path.join(dir, ".nftables.conf.123.0a1b2c3d.tmp");
      const fresh = path.join(dir, ".wireguard-peers.conf.456.deadbeef.tmp");
      await fs.writeFile(stale, "half");
      await fs.writeFile(fresh, "in progress");
      const old = new Date(Date.now() - 11 * 60_000);
      await fs.utimes(stale, old, old);
      expect(await writeGatewayFiles(dir, { peers: "P\n", nftables: "N\n" })).toEqual([GATEWAY_PEERS_FILE, GATEWAY_RULES_FILE]);
      expect(await writeGatewayFiles(dir, { peers: "P\n", nftables: "N2\n" })).toEqual([GATEWAY_RULES_FILE]);
      expect((await fs.readdir(dir)).sort()).toEqual([".wireguard-peers.conf.456.deadbeef.tmp", GATEWAY_RULES_FILE, GATEWAY_PEERS_FILE].sort());
      expect(await fs.readFile(path.join(dir, GATEWAY_RULES_FILE), "utf8")).toBe("N2\n");
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
