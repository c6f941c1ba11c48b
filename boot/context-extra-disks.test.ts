import { describe, expect, it } from "vitest";
import { renderTemplate } from "./template";
import { buildBootContext, type BootContextInput } from "./context";

const base: BootContextInput = {
  baseUrl: "http://kiln.test",
  host: { name: "node-07", macs: ["52:54:00:00:00:07"], interface: { mac: "52:54:00:00:00:07", name: "eth0" }, facts: {}, cpuCores: 4, memoryMb: 2048, disks: [] },
  hostVars: {},
  leaseVars: {},
  user: null,
  image: null,
  deployment: null,
};

describe("extra disks in the template context", () => {
  it("lists each disk with its device, NBD address and the ramdisk's kernel argument", () => {
    const context = buildBootContext({
      ...base,
      extraDisks: [
        { name: "disk1", sizeBytes: 1048576, host: "10.1.0.5", port: 40001, exportName: "kiln-aaa" },
        { name: "disk3", sizeBytes: 2097152, host: "10.1.0.5", port: 40002, exportName: "kiln-bbb" },
      ],
    });
    expect(context.extra_disks).toEqual([
      { name: "disk1", size: 1048576, device: "/dev/nbd1", nbd: { host: "10.1.0.5", port: 40001, export: "kiln-aaa", uri: "nbd://10.1.0.5:40001/kiln-aaa", spec: "10.1.0.5:40001/kiln-aaa" } },
      { name: "disk3", size: 2097152, device: "/dev/nbd2", nbd: { host: "10.1.0.5", port: 40002, export: "kiln-bbb", uri: "nbd://10.1.0.5:40002/kiln-bbb", spec: "10.1.0.5:40002/kiln-bbb" } },
    ]);
    expect((context.kiln as { extra_disks_arg: string }).extra_disks_arg).toBe("kiln.disks=10.1.0.5:40001/kiln-aaa,10.1.0.5:40002/kiln-bbb");
    const out = renderTemplate('{% for d in extra_disks %}{{ d.device }}={{ d.nbd.spec }};{% endfor %}{{ extra_disks | map(attribute="name") | join(",") }}', context);
    expect(out).toBe("/dev/nbd1=10.1.0.5:40001/kiln-aaa;/dev/nbd2=10.1.0.5:40002/kiln-bbb;disk1,disk3");
  });

  it("is an empty list and an empty argument without disks, so templates need no guard", () => {
    const context = buildBootContext(base);
    expect(context.extra_disks).toEqual([]);
    expect(renderTemplate("[{{ kiln.extra_disks_arg }}]{% for d in extra_disks %}x{% endfor %}", context)).toBe("[]");
  });
});
