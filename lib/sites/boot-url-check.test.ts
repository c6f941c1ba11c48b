import { describe, expect, it } from "vitest";
import { bootStartLines, bootUrlWarning, unreachableBootUrlReason } from "./boot-url-check";

describe("boot URL reachability", () => {
  it.each(["http://localhost:3001", "http://LOCALHOST:3001/", "http://127.0.0.1:3001", "http://127.1.2.3", "http://[::1]:3001", "http://0.0.0.0:3001", "http://kiln.localhost:3001", "http://[::ffff:127.0.0.1]:3001"])(
    "warns for %s",
    (url) => {
      expect(unreachableBootUrlReason(url)).not.toBeNull();
    },
  );

  it.each(["http://10.0.2.2:3001", "http://kiln.lab.example:3001", "https://192.168.1.10", "http://[fd00::5]:3001", "http://localhost-builder.lab:3001"])("accepts %s", (url) => {
    expect(unreachableBootUrlReason(url)).toBeNull();
  });

  it("says what is wrong and how to fix it", () => {
    expect(bootUrlWarning("http://localhost:3001", 3001)).toEqual({
      reason: "localhost is, on each machine, the machine itself",
      text: "Machines cannot reach the boot URL http://localhost:3001: localhost is, on each machine, the machine itself.",
      fix: "Set KILN_BOOT_URL to an address the machines can reach, such as http://<this server's address on the lab network>:3001, and restart Kiln (or set the site's boot URL under Admin → Sites).",
    });
    expect(bootUrlWarning("http://10.0.2.2:3001", 3001)).toBeNull();
  });
});

describe("the start log's network-boot lines", () => {
  it("print KILN_BOOT_URL's chain URL, not the portal's, when it is set elsewhere", () => {
    const lines = bootStartLines({ baseUrl: "http://127.0.0.1:3000", bootUrl: "http://10.1.0.2:3001", bootPort: 3001, isBootUrlSet: true });
    expect(lines).toEqual(["Machines chain-load http://10.1.0.2:3001/boot/chain.ipxe (KILN_BOOT_URL); the boot server listens on port 3001. DHCP snippets: http://127.0.0.1:3000/admin/network-boot"]);
    expect(lines.join("\n")).not.toContain("127.0.0.1:3000/boot");
  });

  it("warn when the derived boot URL is a loopback one", () => {
    const lines = bootStartLines({ baseUrl: "http://localhost:3000", bootUrl: "http://localhost:3001", bootPort: 3001, isBootUrlSet: false });
    expect(lines[0]).toContain("(derived from KILN_URL and the boot port 3001; set KILN_BOOT_URL to change it)");
    expect(lines[1]).toBe(
      "warning: Machines cannot reach the boot URL http://localhost:3001: localhost is, on each machine, the machine itself. Set KILN_BOOT_URL to an address the machines can reach, such as http://<this server's address on the lab network>:3001, and restart Kiln (or set the site's boot URL under Admin → Sites).",
    );
  });
});
