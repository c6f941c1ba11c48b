import { describe, expect, it } from "vitest";
import { accessOf, provisioningOf } from "./connection-info";
import { addressScope, bootAddressRows, cleanReported, normalizeAddress, parseIpOutput, pickSshAddress, sshUserOf, type HostAddressView } from "./addresses";

// `ip -o link; ip -o addr` as iproute2 prints it on a Debian guest (a bridge, a VLAN, a down NIC).
const IPROUTE = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\\    altname enp0s3
3: ens4.100@ens4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:AB:CD:EF brd ff:ff:ff:ff:ff:ff
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever
2: ens3    inet 10.0.2.15/24 metric 100 brd 10.0.2.255 scope global dynamic ens3\\       valid_lft 86313sec preferred_lft 86313sec
2: ens3    inet6 fec0::5054:ff:fe12:3456/64 scope site dynamic mngtmpaddr \\       valid_lft 86315sec preferred_lft 14315sec
2: ens3    inet6 fe80::5054:ff:fe12:3456/64 scope link \\       valid_lft forever preferred_lft forever
3: ens4.100    inet 192.0.2.77/24 brd 192.0.2.255 scope global ens4.100\\       valid_lft forever preferred_lft forever
`;

// What busybox's `ip -o addr` prints in the deploy ramdisk (no link lines: no MACs).
const BUSYBOX = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet6 2001:DB8:0:0::15/64 scope global \\       valid_lft forever preferred_lft forever
`;

const view = (address: string, source: HostAddressView["source"], seenAt = "2026-12-02T10:00:00.000Z"): HostAddressView => {
  const n = normalizeAddress(address)!;
  return { address: n.address, family: n.family, scope: addressScope(n.address), source, mac: null, seenAt };
};

describe("addresses", () => {
  it("normalises what reporters send: prefixes, zones, brackets, IPv4-mapped, case; refuses what is not an address", () => {
    expect(normalizeAddress("10.0.2.15/24")).toEqual({ address: "10.0.2.15", family: 4 });
    expect(normalizeAddress("[2001:DB8::0001]")).toEqual({ address: "2001:db8::1", family: 6 });
    expect(normalizeAddress("fe80::1%eth0")).toEqual({ address: "fe80::1", family: 6 });
    expect(normalizeAddress("::ffff:127.0.0.1")).toEqual({ address: "127.0.0.1", family: 4 });
    for (const bad of ["", "eth0", "10.0.2", "300.1.1.1", "10.0.2.15; rm -rf /", "<script>"]) expect(normalizeAddress(bad), bad).toBeNull();
  });

  it("knows loopback, link-local, private and global", () => {
    expect(["127.0.0.1", "::1", "169.254.1.1", "fe80::1", "10.0.2.15", "172.20.0.1", "fd00::2", "192.0.2.1", "2001:db8::1", "0.0.0.0"].map(addressScope)).toEqual([
      "loopback", "loopback", "link-local", "link-local", "private", "private", "private", "global", "global", "unspecified",
    ]);
  });

  it("reads iproute2's `ip -o link; ip -o addr`: routable addresses only, each with its interface's MAC", () => {
    expect(parseIpOutput(IPROUTE)).toEqual([
      { address: "10.0.2.15", mac: "52:54:00:12:34:56" },
      { address: "fec0::5054:ff:fe12:3456", mac: "52:54:00:12:34:56" },
      { address: "192.0.2.77", mac: "52:54:00:ab:cd:ef" },
    ]);
  });

  it("reads busybox's output (no link lines), and text that is no ip output at all gives nothing", () => {
    expect(parseIpOutput(BUSYBOX)).toEqual([
      { address: "10.0.2.15", mac: null },
      { address: "2001:db8::15", mac: null },
    ]);
    expect(parseIpOutput("pub_key_rsa=ssh-rsa+AAAA&hostname=node-07")).toEqual([]);
    expect(parseIpOutput("")).toEqual([]);
  });

  it("cleans JSON reports: duplicates, junk and unroutable dropped, a bad MAC forgotten, at most 32", () => {
    expect(cleanReported([{ address: "10.0.0.5/16", mac: "52-54-00-12-34-56" }, { address: "10.0.0.5" }, { address: "nonsense" }, { address: "127.0.0.1" }, { address: "10.0.0.6", mac: "zz" }])).toEqual([
      { address: "10.0.0.5", mac: "52:54:00:12:34:56" },
      { address: "10.0.0.6", mac: null },
    ]);
    expect(cleanReported(Array.from({ length: 40 }, (_, i) => ({ address: `10.1.0.${i + 1}` })))).toHaveLength(32);
  });

  it("keeps the boot request's source whatever its scope (what Kiln saw), with the asking MAC", () => {
    const at = new Date();
    expect(bootAddressRows([{ hostId: "h", at, sourceIp: "::ffff:127.0.0.1", mac: "52:54:00:00:00:01" }, { hostId: "g", at, sourceIp: null }]).rows).toEqual([
      { hostId: "h", address: "127.0.0.1", source: "boot", mac: "52:54:00:00:00:01", seenAt: at },
    ]);
  });

  it("picks the ssh address: routable only, installed > agent > boot, IPv4 before IPv6, newest", () => {
    const boot = view("127.0.0.1", "boot", "2026-12-02T12:00:00.000Z");
    const agent = view("10.0.2.15", "agent", "2026-12-02T10:00:00.000Z");
    const installed6 = view("2001:db8::15", "installed");
    const installed4old = view("192.0.2.10", "installed", "2026-12-01T00:00:00.000Z");
    const installed4new = view("192.0.2.11", "installed", "2026-12-02T00:00:00.000Z");
    // A relay's loopback address is no address to ssh to.
    expect(pickSshAddress([boot])).toBeNull();
    expect(pickSshAddress([view("fe80::1", "installed")])).toBeNull();
    const routedBoot = view("192.0.2.7", "boot");
    expect(pickSshAddress([boot, routedBoot])).toBe(routedBoot);
    expect(pickSshAddress([boot, agent])).toBe(agent);
    expect(pickSshAddress([boot, agent, installed6])).toBe(installed6);
    expect(pickSshAddress([installed6, installed4old, installed4new, agent])).toBe(installed4new);
    expect(pickSshAddress([])).toBeNull();
  });

  it("takes the ssh user from the run's vars, else the installer answers, else root (and says which)", () => {
    expect(sshUserOf({ vars: { username: "ada" }, renderedUnattended: "d-i passwd/username string kiln\n" })).toEqual({ user: "ada", source: "run vars" });
    expect(sshUserOf({ vars: { username: "x; rm -rf /" }, renderedUnattended: null })).toEqual({ user: "root", source: "fallback" });
    expect(sshUserOf({ vars: {}, renderedUnattended: "d-i passwd/username string kiln\n" })).toEqual({ user: "kiln", source: "installer answers" });
    expect(sshUserOf({ vars: {}, renderedUnattended: 'autoinstall:\n  identity:\n    hostname: "n"\n    username: "ubuntu"\n' })).toEqual({ user: "ubuntu", source: "installer answers" });
    expect(sshUserOf({ vars: {}, renderedUnattended: '#cloud-config\nusers:\n  - name: "kiln"\n    sudo: x\n' })).toEqual({ user: "kiln", source: "installer answers" });
    expect(sshUserOf({ vars: {}, renderedUnattended: 'rootpw --lock\nsshkey --username=root "ssh-ed25519 AAAA"\n' })).toEqual({ user: "root", source: "installer answers" });
    expect(sshUserOf(null)).toEqual({ user: "root", source: "fallback" });
  });

  it("builds the access line and the deploy status from the latest run", () => {
    const run = { id: "r1", hostId: "h", leaseId: null, action: "install", state: "done", origin: "holder", finishedAt: new Date("2026-12-02T10:00:00Z"), failureReason: null, vars: {}, renderedUnattended: "d-i passwd/username string kiln\n" } as const;
    expect(accessOf([view("10.0.2.15", "installed"), view("127.0.0.1", "boot")], { ...run, vars: {} })).toEqual({
      address: "10.0.2.15", addressSource: "installed", user: "kiln", userSource: "installer answers", command: "ssh kiln@10.0.2.15",
    });
    // A wipe says nothing of accounts.
    expect(accessOf([view("10.0.2.15", "agent")], { ...run, action: "wipe_disk" })?.command).toBe("ssh root@10.0.2.15");
    expect(accessOf([], run)).toBeNull();
    expect(provisioningOf(run)).toEqual({ state: "deployed", runId: "r1", action: "install", runState: "done", finishedAt: "2026-12-02T10:00:00.000Z", failureReason: null });
    expect(provisioningOf({ ...run, state: "running", finishedAt: null }).state).toBe("deploying");
    expect(provisioningOf({ ...run, state: "failed", failureReason: "checksum mismatch" })).toMatchObject({ state: "failed", failureReason: "checksum mismatch" });
    expect(provisioningOf(undefined)).toEqual({ state: "none", runId: null, action: null, runState: null, finishedAt: null, failureReason: null });
  });
});
