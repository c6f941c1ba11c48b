// A host's hardware facts as the deploy agent reports them (docs/commissioning.md): turned into
// the columns other code reads (hosts.cpu_cores, memory_mb, disks, facts) and the whole snapshot
// each version of host_fact_versions keeps. Pure, so the same rules apply to a commissioning
// run, a deploy's inventory and the tests.
import type { DiskFact, HostFactSnapshot } from "@/db/schema";
import type { AgentInventory } from "../validation/deployments";

export type DiskType = "hdd" | "ssd" | "nvme";

/** The contract of hosts.facts that lease dialogs and host filters read (other keys may exist beside it). */
export type HostFacts = {
  cpu?: { model?: string; vendor?: string; threads?: number; cores?: number; sockets?: number };
  nics?: { mac: string; name: string; driver?: string; speedMbps?: number; link?: boolean }[];
  dmi?: { vendor?: string; product?: string; serial?: string; boardVendor?: string; boardName?: string; biosVendor?: string; biosVersion?: string };
  firmware?: "bios" | "uefi";
  bmc?: { address: string; mac?: string } | null;
  /** When a commissioning run last reported (ISO time); absent: never commissioned. */
  commissionedAt?: string;
  [key: string]: unknown;
};

/** nvme* names are NVMe whatever the flag says; otherwise the kernel's rotational flag decides. */
export function diskTypeOf(name: string, rotational: boolean | undefined): DiskType | undefined {
  if (/^nvme\d/.test(name)) return "nvme";
  if (rotational === undefined) return undefined;
  return rotational ? "hdd" : "ssd";
}

/** Serial numbers and models come padded with spaces from sysfs; empty means unknown. */
function clean(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export type ReportedFacts = { cpuCores?: number; memoryMb?: number; disks?: DiskFact[]; facts: HostFacts };

/**
 * What an inventory report makes of a host's facts. Keys the report leaves out keep their
 * previous values (an agent from before commissioning sends no cpu/dmi/firmware), so a deploy's
 * inventory never erases what commissioning found. `commissioned`: the report is a
 * commissioning run's, which moves commissionedAt.
 */
export function factsFromInventory(inv: AgentInventory, previous: Record<string, unknown>, p: { at: Date; commissioned: boolean }): ReportedFacts {
  const disks = inv.disks?.map((d) =>
    dropUndefined({ name: d.name, sizeBytes: d.sizeBytes, serial: clean(d.serial), model: clean(d.model), rotational: d.rotational, type: d.type ?? diskTypeOf(d.name, d.rotational) }),
  );
  // Addresses go to host_addresses (newest kept, with their source), not into the facts.
  const nics = inv.nics?.map(({ addresses: _, ...nic }) => dropUndefined({ mac: nic.mac, name: nic.name, driver: clean(nic.driver), speedMbps: nic.speedMbps, link: nic.link }));
  const cpu = inv.cpu ? dropUndefined({ ...inv.cpu, model: clean(inv.cpu.model), vendor: clean(inv.cpu.vendor), threads: inv.cpu.threads ?? inv.cpuCores }) : undefined;
  const dmi = inv.dmi ? dropUndefined(Object.fromEntries(Object.entries(inv.dmi).map(([k, v]) => [k, clean(v)]))) : undefined;
  const facts: HostFacts = {
    ...previous,
    ...(inv.facts ?? {}),
    ...(cpu ? { cpu } : {}),
    ...(nics ? { nics } : {}),
    ...(dmi ? { dmi } : {}),
    ...(inv.firmware ? { firmware: inv.firmware } : {}),
    ...(inv.bmc !== undefined ? { bmc: inv.bmc ? dropUndefined({ address: inv.bmc.address, mac: clean(inv.bmc.mac) }) : null } : {}),
    ...(p.commissioned ? { commissionedAt: p.at.toISOString() } : {}),
  };
  return { cpuCores: inv.cpuCores, memoryMb: inv.memoryMb, disks, facts };
}

/** The whole of what Kiln knows of a host's hardware, as a version keeps it. */
export function snapshotOf(host: HostFactSnapshot): HostFactSnapshot {
  return { cpuCores: host.cpuCores, memoryMb: host.memoryMb, disks: host.disks, facts: host.facts };
}

/** A one-line summary for the timeline and the run's log; it begins as the run log's inventory line always has ("N cores, M MB memory, disks …"). */
export function summarizeFacts(s: HostFactSnapshot): string {
  const f = s.facts as HostFacts;
  const gb = (b: number | undefined) => (b ? `${Math.round(b / 1e9)} GB` : "? GB");
  const disks = s.disks.map((d) => `${d.name} ${gb(d.sizeBytes)}${d.type ? ` ${d.type}` : ""}`).join(", ");
  return [
    `${s.cpuCores ?? "?"} cores${f.cpu?.model ? ` (${f.cpu.model})` : ""}`,
    `${s.memoryMb ?? "?"} MB memory`,
    `disks ${disks || "none"}`,
    `${f.nics?.length ?? 0} NICs`,
    ...(f.firmware ? [f.firmware.toUpperCase()] : []),
    ...(f.bmc ? [`BMC ${f.bmc.address}`] : []),
  ].join(", ");
}
