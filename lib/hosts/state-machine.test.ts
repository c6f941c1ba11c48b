import { describe, expect, it } from "vitest";
import { canTransition, describeIllegalTransition, sourcesOf } from "./state-machine";

describe("host state machine", () => {
  it("follows the lease cycle new → available → leased → releasing → available", () => {
    expect(canTransition("new", "available")).toBe(true);
    expect(canTransition("available", "leased")).toBe(true);
    expect(canTransition("leased", "releasing")).toBe(true);
    expect(canTransition("releasing", "available")).toBe(true);
  });

  it("refuses shortcuts", () => {
    expect(canTransition("new", "leased")).toBe(false);
    expect(canTransition("leased", "available")).toBe(false);
    expect(canTransition("leased", "maintenance")).toBe(false);
    expect(canTransition("maintenance", "leased")).toBe(false);
    expect(canTransition("available", "available")).toBe(false);
  });

  it("lists the sources of a state and explains a refusal", () => {
    expect(sourcesOf("leased")).toEqual(["available"]);
    expect(describeIllegalTransition("n1", "leased", "maintenance")).toBe("Host n1 is leased; it cannot become maintenance. Release its lease first.");
  });
});
