import { describe, expect, it } from "vitest";
import { canFinishDeployment, canTransition, describeIllegalTransition, provisioningStateOf, sourcesOf } from "./state-machine";

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

describe("provisioning runs", () => {
  it("finish once: pending/running end in done, failed or cancelled, and never leave them", () => {
    expect(canFinishDeployment("running", "done")).toBe(true);
    expect(canFinishDeployment("pending", "cancelled")).toBe(true);
    expect(canFinishDeployment("failed", "done")).toBe(false);
    expect(canFinishDeployment("done", "failed")).toBe(false);
    expect(canFinishDeployment("cancelled", "running")).toBe(false);
  });

  it("derive what a host shows from its latest run: a failed run is failed, never deployed", () => {
    expect(provisioningStateOf(null)).toBe("none");
    expect(provisioningStateOf({ state: "running", origin: "holder" })).toBe("deploying");
    expect(provisioningStateOf({ state: "done", origin: "holder" })).toBe("deployed");
    expect(provisioningStateOf({ state: "failed", origin: "holder" })).toBe("failed");
    expect(provisioningStateOf({ state: "pending", origin: "release" })).toBe("wiping");
    expect(provisioningStateOf({ state: "failed", origin: "release" })).toBe("failed");
    expect(provisioningStateOf({ state: "done", origin: "holder", action: "wipe_disk" })).toBe("wiped");
    expect(provisioningStateOf({ state: "cancelled", origin: "holder", action: "deploy_image" })).toBe("cancelled");
  });
});
