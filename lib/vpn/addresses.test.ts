import { describe, expect, it } from "vitest";
import { AppError } from "../errors";
import { allocateAddress, deviceAddressBounds, deviceAddressCapacity, lowestFreeAddress, RANGE_FULL_MESSAGE } from "./addresses";
import { formatIpv4 } from "./cidr";

describe("device addresses", () => {
  it("skip the network address, the gateway's first usable address and the broadcast", () => {
    const { first, last } = deviceAddressBounds("10.250.0.0/24");
    expect(formatIpv4(first)).toBe("10.250.0.2");
    expect(formatIpv4(last)).toBe("10.250.0.254");
    expect(deviceAddressCapacity("10.250.0.0/24")).toBe(253);
    expect(lowestFreeAddress("10.250.0.0/24", [])).toBe("10.250.0.2");
  });

  it("take the range's network even when written with a host part", () => {
    expect(lowestFreeAddress("10.250.0.77/24", [])).toBe("10.250.0.2");
    expect(lowestFreeAddress("172.16.4.9/22", [])).toBe("172.16.4.2");
    expect(formatIpv4(deviceAddressBounds("172.16.4.9/22").last)).toBe("172.16.7.254");
  });

  it("take the lowest free address, filling a gap a revoked device left", () => {
    expect(lowestFreeAddress("10.250.0.0/24", ["10.250.0.2", "10.250.0.3", "10.250.0.5"])).toBe("10.250.0.4");
    expect(lowestFreeAddress("10.250.0.0/24", ["10.250.0.3"])).toBe("10.250.0.2");
  });

  it("cross octet boundaries", () => {
    const taken = Array.from({ length: 254 }, (_, i) => `10.9.0.${i + 2}`); // .2 … .255
    expect(lowestFreeAddress("10.9.0.0/23", taken)).toBe("10.9.1.0");
  });

  it("ignore addresses outside the range and text that is not an address", () => {
    expect(lowestFreeAddress("10.250.0.0/24", ["10.251.0.2", "garbage", "10.250.0.1"])).toBe("10.250.0.2");
  });

  it("a /30 holds one device; a /31 or /32 is refused as too small", () => {
    expect(deviceAddressCapacity("192.168.5.0/30")).toBe(1);
    expect(lowestFreeAddress("192.168.5.0/30", [])).toBe("192.168.5.2");
    expect(lowestFreeAddress("192.168.5.0/30", ["192.168.5.2"])).toBeNull();
    expect(() => deviceAddressBounds("192.168.5.0/31")).toThrow(/too small/);
    expect(() => deviceAddressBounds("192.168.5.1/32")).toThrow(/too small/);
  });

  it("a full range is a 409 saying what to do", () => {
    const taken = Array.from({ length: 5 }, (_, i) => `10.1.1.${i + 2}`);
    expect(lowestFreeAddress("10.1.1.0/29", taken)).toBeNull();
    let err: unknown;
    try {
      allocateAddress("10.1.1.0/29", taken);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(409);
    expect((err as AppError).message).toBe(RANGE_FULL_MESSAGE);
    expect(allocateAddress("10.1.1.0/29", taken.slice(1))).toBe("10.1.1.2");
  });

  it("handle the top of the address space without overflow", () => {
    expect(lowestFreeAddress("255.255.255.0/24", [])).toBe("255.255.255.2");
    expect(formatIpv4(deviceAddressBounds("255.255.255.0/24").last)).toBe("255.255.255.254");
  });
});
