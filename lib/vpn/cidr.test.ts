import { describe, expect, it } from "vitest";
import { formatCidr, formatIpv4, gatewayAddressOf, isInCidr, parseCidr, parseCidrList, parseIpv4, usableRange } from "./cidr";

describe("cidr", () => {
  it("parses and formats addresses", () => {
    expect(parseIpv4("10.250.0.1")).toBe(0x0afa0001);
    expect(formatIpv4(0xfffffffe)).toBe("255.255.255.254");
    for (const bad of ["10.0.0", "10.0.0.256", "01.0.0.1", "a.b.c.d", "10.0.0.1.2", ""]) expect(parseIpv4(bad)).toBeNull();
  });

  it("normalises a range to its network and knows its usable addresses", () => {
    const c = parseCidr("10.250.0.77/24");
    expect(formatCidr(c)).toBe("10.250.0.0/24");
    expect(formatIpv4(c.broadcast)).toBe("10.250.0.255");
    const { first, last } = usableRange(c);
    expect([formatIpv4(first), formatIpv4(last)]).toEqual(["10.250.0.1", "10.250.0.254"]);
    expect(formatCidr(parseCidr("192.168.1.9"))).toBe("192.168.1.9/32");
    expect(isInCidr("10.250.0.255", c)).toBe(true);
    expect(isInCidr("10.250.1.0", c)).toBe(false);
    expect(isInCidr("nonsense", c)).toBe(false);
  });

  it("refuses malformed ranges with a message naming them", () => {
    for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8/1", "fd00::/64", "x/24"]) {
      expect(() => parseCidr(bad)).toThrow(`"${bad}" is not an IPv4 address range`);
    }
  });

  it("parses comma-separated lists", () => {
    expect(parseCidrList(" 10.0.0.0/8, ,192.168.5.0/24 ").map(formatCidr)).toEqual(["10.0.0.0/8", "192.168.5.0/24"]);
  });

  it("gives the gateway the first usable address", () => {
    expect(gatewayAddressOf("10.250.0.0/24")).toBe("10.250.0.1");
    expect(gatewayAddressOf("10.77.3.8/30")).toBe("10.77.3.9");
    expect(() => gatewayAddressOf("10.0.0.0/31")).toThrow(/too small/);
  });
});
