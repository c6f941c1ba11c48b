// The agent's commissioning for real (boot/agent/*.sh, joined as served, run by the system's sh against
// Kiln's machine-facing routes over HTTP): a new MAC boots, the agent reads DMI, firmware and the
// BMC from stand-ins (KILN_DMI_DIR, KILN_EFI_DIR, KILN_IPMI_DEV and an `ipmitool` on PATH that
// prints a real `lan print`), and Kiln stores what the script parsed. The CPU, memory and NICs
// are this machine's own.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readAgentScript } from "@/boot/agent/agent-script";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findHostByMac, listHostDeployments } from "@/db/queries/boot";
import { getHostRow } from "@/db/queries/hosts";
import { getProcessEnv } from "@/lib/env";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import type { RouteServer } from "@/test/harness/http-server";
import { FakeMachine, startBootServer } from "@/test/harness/provisioning";
import type { HostFacts } from "./facts";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-agent-commission-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data") });
// The agent as the ramdisk gets it: its parts joined (boot/agent/agent-script.ts).
const SCRIPT = path.join(tmp, "kiln-agent.sh");
await fs.writeFile(SCRIPT, await readAgentScript());

// What ipmitool 1.8.19 prints for a Dell iDRAC (abridged).
const LAN_PRINT = `Set in Progress         : Set Complete
Auth Type Support       : NONE MD5 PASSWORD
IP Address Source       : Static Address
IP Address              : 10.20.30.41
Subnet Mask             : 255.255.255.0
MAC Address             : d0:94:66:1a:2b:3c
Default Gateway IP      : 10.20.30.1
`;

let server: RouteServer;
beforeAll(async () => {
  await syncBuiltinTemplates(t.db);
  server = await startBootServer();
  setTestEnvDefaults({ KILN_BOOT_URL: server.url });
});
afterAll(async () => {
  await server?.close();
  await stopJobSender();
  await fs.rm(tmp, { recursive: true, force: true });
});

async function standIns(name: string, p: { bmc: boolean; uefi: boolean }) {
  const dir = path.join(tmp, name);
  const dmi = path.join(dir, "dmi");
  const bin = path.join(dir, "bin");
  await fs.mkdir(dmi, { recursive: true });
  await fs.mkdir(bin, { recursive: true });
  const files: Record<string, string> = { sys_vendor: "Dell Inc.\n", product_name: "PowerEdge R640\n", product_serial: "  4XK9Z33 \n", board_vendor: "Dell Inc.\n", board_name: "0W23H8\n", bios_vendor: "Dell Inc.\n", bios_version: "2.19.1\n" };
  for (const [f, v] of Object.entries(files)) await fs.writeFile(path.join(dmi, f), v);
  if (p.uefi) await fs.mkdir(path.join(dir, "efi"));
  if (p.bmc) await fs.writeFile(path.join(dir, "ipmi0"), "");
  await fs.writeFile(path.join(bin, "ipmitool"), `#!/bin/sh\n[ "$1 $2" = "lan print" ] || exit 1\ncat <<'EOF'\n${LAN_PRINT}EOF\n`, { mode: 0o755 });
  return { dir, env: { KILN_DMI_DIR: dmi, KILN_EFI_DIR: path.join(dir, "efi"), KILN_IPMI_DEV: path.join(dir, "ipmi0"), PATH: `${bin}:${getProcessEnv().PATH}` } };
}

function runAgent(p: { mac: string; token: string; dir: string; env: Record<string, string> }): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      [SCRIPT],
      { env: { ...p.env, KILN_URL: server.url, KILN_MAC: p.mac, KILN_TOKEN: p.token, KILN_DEV: p.dir, TMPDIR: p.dir } as unknown as NodeJS.ProcessEnv, timeout: 30_000 },
      (err: Error | null, _stdout: string, stderr: string) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe("the agent commissions", () => {
  it("DMI (trimmed), UEFI and the BMC's address from ipmitool lan print; the run is done and the agent says commissioned", async () => {
    const mac = "52:54:00:c6:00:01";
    const machine = new FakeMachine(server, mac);
    expect(await machine.boot()).toContain("kiln.action=commission");
    const s = await standIns("bmc", { bmc: true, uefi: true });
    const res = await runAgent({ mac, token: machine.token!, ...s });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain("kiln-agent: commissioned");

    const host = (await findHostByMac(t.db, mac))!.host;
    const [run] = await listHostDeployments(t.db, host.id, 1);
    expect(run).toMatchObject({ action: "commission", state: "done" });
    const row = (await getHostRow(t.db, host.id))!;
    const facts = row.facts as HostFacts;
    expect(facts.dmi).toEqual({ vendor: "Dell Inc.", product: "PowerEdge R640", serial: "4XK9Z33", boardVendor: "Dell Inc.", boardName: "0W23H8", biosVendor: "Dell Inc.", biosVersion: "2.19.1" });
    expect(facts.firmware).toBe("uefi");
    expect(facts.bmc).toEqual({ address: "10.20.30.41", mac: "d0:94:66:1a:2b:3c" });
    // This machine's own CPU and memory, as /proc says.
    expect(row.cpuCores).toBe(os.cpus().length);
    expect(row.memoryMb).toBe(Math.floor(Number(/MemTotal:\s+(\d+)/.exec(await fs.readFile("/proc/meminfo", "utf8"))![1]) / 1024));
    expect(facts.cpu?.threads).toBe(os.cpus().length);
    expect(facts.cpu?.model).toBe(os.cpus()[0]!.model.trim());
    expect(typeof facts.commissionedAt).toBe("string");
  });

  it("no IPMI device: bmc null; no /sys/firmware/efi: BIOS", async () => {
    const mac = "52:54:00:c6:00:02";
    const machine = new FakeMachine(server, mac);
    await machine.boot();
    const s = await standIns("none", { bmc: false, uefi: false });
    const res = await runAgent({ mac, token: machine.token!, ...s });
    expect(res.code, res.stderr).toBe(0);
    const facts = (await getHostRow(t.db, (await findHostByMac(t.db, mac))!.host.id))!.facts as HostFacts;
    expect(facts.bmc).toBeNull();
    expect(facts.firmware).toBe("bios");
  });
});
