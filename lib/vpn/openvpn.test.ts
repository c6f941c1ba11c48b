import { describe, expect, it } from "vitest";
import { certificatesOf, parseOpenVpnRemote, renderOpenVpnProfile } from "./openvpn";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Vy\ndGlmaWNhdGU=\n-----END CERTIFICATE-----";

describe("renderOpenVpnProfile", () => {
  it("renders a client profile asking for the directory uid and password, with the CA inline", () => {
    expect(renderOpenVpnProfile({ remote: "vpn.lab.example 1194", ca: `junk before\n${CERT}\n`, username: "alice" })).toBe(
      [
        "# OpenVPN profile from Kiln for alice.",
        "# Sign in with your directory account: username alice and its password (the one you chose in Kiln).",
        "client",
        "dev tun",
        "proto udp",
        "remote vpn.lab.example 1194",
        "resolv-retry infinite",
        "nobind",
        "persist-key",
        "persist-tun",
        "remote-cert-tls server",
        "auth-user-pass",
        "auth-nocache",
        "verb 3",
        "<ca>",
        CERT,
        "</ca>",
        "",
      ].join("\n"),
    );
  });

  it("takes tcp, keeps every certificate of a chain, and keeps a hostile uid on its line", () => {
    const text = renderOpenVpnProfile({ remote: " 192.0.2.7  443 tcp ", ca: `${CERT}\r\n${CERT}`, username: "bob\nremote evil 1" });
    expect(text).toMatch(/^proto tcp$/m);
    expect(text).toMatch(/^remote 192\.0\.2\.7 443$/m);
    expect(text.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(text).not.toMatch(/\r/);
    expect(text).not.toMatch(/^remote evil/m);
  });

  it("refuses a malformed remote or a CA file without a certificate", () => {
    for (const bad of ["", "vpn.lab.example 70000", "vpn.lab.example 1194 sctp", "vpn lab 1194", "host 1194 udp extra"]) {
      expect(() => parseOpenVpnRemote(bad)).toThrow(/KILN_OPENVPN_REMOTE/);
    }
    expect(parseOpenVpnRemote("vpn.lab.example")).toEqual({ host: "vpn.lab.example", port: 1194, proto: "udp" });
    expect(() => certificatesOf("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----")).toThrow(/no PEM certificate/);
  });
});
