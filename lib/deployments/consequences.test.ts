import { describe, expect, it } from "vitest";
import { describeCancel, describeReinstall, hasTouchedDisk, isDiskWritten } from "./consequences";

describe("what a reinstall does to the machine", () => {
  it("says a machine Kiln can restart is power-cycled and its disk overwritten", () => {
    const text = describeReinstall({ action: "deploy_image", hostName: "node-1", cannotRestart: null, what: "image “base” version 3", wipeFirst: true }).join(" ");
    expect(text).toMatch(/node-1 is power-cycled now/);
    expect(text).toMatch(/Its disk is overwritten with image “base” version 3; the whole disk is erased first/);
    expect(text).toMatch(/boots its local disk/);
  });

  it("says an image deploy with cloud-init ends when the installed system reports done", () => {
    const text = describeReinstall({ action: "deploy_image", hostName: "node-1", cannotRestart: null, what: "image “Debian 12 (cloud image)”", firstBoot: true }).join(" ");
    expect(text).toMatch(/boots it from its local disk; cloud-init there fetches its settings from Kiln and reports done, which ends the run/);
    expect(text).not.toMatch(/When it reports done/);
  });

  it("says a Wake-on-LAN machine boots it the next time it network-boots", () => {
    const text = describeReinstall({ action: "install", hostName: "node-2", cannotRestart: "Wake-on-LAN", disk: "vdb" }).join(" ");
    expect(text).toMatch(/cannot restart node-2 \(Wake-on-LAN\): it boots it the next time it network-boots/);
    expect(text).toMatch(/erases disk vdb/);
    expect(text).not.toMatch(/power-cycled/);
  });

  it("says a mark touches nothing now, and a capture only reads the disk", () => {
    expect(describeReinstall({ action: "install", hostName: "n", cannotRestart: null, waitForBoot: true })[0]).toMatch(/^Nothing happens to n now/);
    expect(describeReinstall({ action: "capture_disk", hostName: "n", cannotRestart: null, what: "“golden”" })[1]).toBe("Its disk is read, not changed, and uploaded as the next version of “golden”.");
  });
});

describe("what cancelling a run does to the machine", () => {
  it("boots the disk after a deploy cancelled while it waited for cloud-init's first boot", () => {
    const text = describeCancel({ action: "deploy_image", mark: false, cannotRestart: null, diskStarted: true, diskWritten: true }).join(" ");
    expect(text).toMatch(/The image is written and verified: the machine will boot it next time/);
    expect(text).not.toMatch(/half-written/);
    expect(isDiskWritten({ steps: [{ name: "write", startedAt: "x" }, { name: "first_boot", startedAt: "y" }] })).toBe(true);
    expect(isDiskWritten({ steps: [{ name: "write", startedAt: "x" }, { name: "first_boot", startedAt: null }] })).toBe(false);
  });

  it("halts the next boot after a deploy that had started writing", () => {
    const text = describeCancel({ action: "deploy_image", mark: false, cannotRestart: null, diskStarted: true }).join(" ");
    expect(text).toMatch(/switched off now/);
    expect(text).toMatch(/half-written: the machine will not boot it/);
    expect(text).toMatch(/lease is not affected/);
  });

  it("boots the local disk after an install, and says a half-written disk stays so", () => {
    expect(describeCancel({ action: "install", mark: false, cannotRestart: "manual power", diskStarted: true })).toEqual([
      "Kiln cannot switch the machine off (manual power): it keeps running what it runs now; switch it off yourself if it should stop.",
      "The machine will boot its local disk next time; a half-written disk stays half-written.",
      "Your lease is not affected.",
    ]);
    expect(describeCancel({ action: "install", mark: true, cannotRestart: null, diskStarted: false })[0]).toMatch(/Nothing is switched off/);
    expect(describeCancel({ action: "deploy_image", mark: false, cannotRestart: null, diskStarted: false })[1]).toMatch(/has not been touched/);
  });
});

describe("whether a run touched its disk", () => {
  it("is the start of the action's disk step; a capture never touches it", () => {
    expect(hasTouchedDisk({ action: "deploy_image", steps: [{ name: "boot", startedAt: "2026-01-01" }, { name: "write", startedAt: null }] })).toBe(false);
    expect(hasTouchedDisk({ action: "deploy_image", steps: [{ name: "write", startedAt: "2026-01-01" }] })).toBe(true);
    expect(hasTouchedDisk({ action: "capture_disk", steps: [{ name: "capture", startedAt: "2026-01-01" }] })).toBe(false);
  });
});
