import { describe, expect, it } from "vitest";
import { buildBootContext, listContextVariables } from "./context";

const context = buildBootContext({
  baseUrl: "http://kiln.test",
  host: { name: "node-07", macs: ["52:54:00:00:00:07"], interface: { mac: "52:54:00:00:00:07", name: "eth0" }, facts: { vendor: "QEMU" }, cpuCores: 4, memoryMb: 2048, disks: [] },
  hostVars: { site: "lab" },
  leaseVars: { disk: "vda" },
  user: { name: "rita", email: "rita@lab.example", sshKeys: ["ssh-ed25519 AAAA"] },
  image: null,
  deployment: { id: "d1", action: "install", token: "t" },
});

describe("the variables a template can use", () => {
  it("lists what buildBootContext gives, as dotted names with printed values", () => {
    const vars = Object.fromEntries(listContextVariables(context).map((v) => [v.name, v]));
    expect(vars["host.interface.mac"]).toEqual({ name: "host.interface.mac", value: "52:54:00:00:00:07", type: "text" });
    expect(vars["host.cores"]!.value).toBe("4");
    expect(vars["vars.disk"]!.value).toBe("vda");
    expect(vars["vars.site"]!.value).toBe("lab");
    expect(vars["user.ssh_keys"]).toMatchObject({ type: "list", value: '["ssh-ed25519 AAAA"]' });
    expect(vars["image"]).toEqual({ name: "image", value: "None", type: "none" });
    expect(vars["deployment.urls.done"]!.value).toBe("http://kiln.test/boot/52-54-00-00-00-07/t/done");
    expect(vars["kiln.ramdisk.kernel"]!.value).toBe("http://kiln.test/boot/ramdisk/vmlinuz");
    expect(vars["host.facts.vendor"]!.value).toBe("QEMU");
  });

  it("stays bounded on huge facts and shortens long values", () => {
    const huge = { host: { facts: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`f${i}`, "x".repeat(1000)])) } };
    const vars = listContextVariables(huge);
    expect(vars.length).toBe(500);
    expect(vars[0]!.value.length).toBe(120);
  });
});
