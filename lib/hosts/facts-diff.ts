// What changed in a host's hardware between two versions of its facts: the host page's
// "changed since the previous version" list. Disks are matched by serial (else name) and NICs
// by MAC, so a swapped disk reads as one removed and one added, not as a changed model.
import type { DiskFact, HostFactSnapshot } from "@/db/schema";
import type { HostFacts } from "./facts";

export type FactChange = { kind: "added" | "removed" | "changed"; what: string; before: string | null; after: string | null };

const show = (v: unknown): string | null => (v === undefined || v === null || v === "" ? null : typeof v === "object" ? JSON.stringify(v) : String(v));

function diskKey(d: DiskFact): string {
  return d.serial ? `serial ${d.serial}` : d.name;
}

function describeDisk(d: DiskFact): string {
  const size = d.sizeBytes !== undefined ? `${(d.sizeBytes / 1e9).toFixed(d.sizeBytes >= 1e11 ? 0 : 1)} GB` : "size unknown";
  return [d.name, size, d.type, d.model, d.serial ? `serial ${d.serial}` : null].filter(Boolean).join(", ");
}

type Nic = NonNullable<HostFacts["nics"]>[number];
function describeNic(n: Nic): string {
  return [n.mac, n.name, n.driver, n.speedMbps !== undefined ? `${n.speedMbps} Mb/s` : null, n.link === undefined ? null : n.link ? "link up" : "no link"].filter(Boolean).join(", ");
}

/** Field-by-field comparison of two flat objects, each field named `prefix field`. */
function compareFields(out: FactChange[], prefix: string, a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): void {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
  for (const k of keys) {
    const before = show(a?.[k]);
    const after = show(b?.[k]);
    if (before === after) continue;
    out.push({ kind: before === null ? "added" : after === null ? "removed" : "changed", what: `${prefix} ${k}`, before, after });
  }
}

/** The changes from `before` to `after`; empty when nothing Kiln tracks changed. */
export function diffFacts(before: HostFactSnapshot, after: HostFactSnapshot): FactChange[] {
  const out: FactChange[] = [];
  const scalar = (what: string, a: unknown, b: unknown) => {
    const x = show(a);
    const y = show(b);
    if (x !== y) out.push({ kind: x === null ? "added" : y === null ? "removed" : "changed", what, before: x, after: y });
  };
  const fa = before.facts as HostFacts;
  const fb = after.facts as HostFacts;
  scalar("CPUs", before.cpuCores, after.cpuCores);
  scalar("memory (MB)", before.memoryMb, after.memoryMb);
  compareFields(out, "CPU", fa.cpu, fb.cpu);

  const disksA = new Map(before.disks.map((d) => [diskKey(d), d]));
  const disksB = new Map(after.disks.map((d) => [diskKey(d), d]));
  for (const [k, d] of disksA) {
    const n = disksB.get(k);
    if (!n) out.push({ kind: "removed", what: `disk ${d.name}`, before: describeDisk(d), after: null });
    else if (describeDisk(d) !== describeDisk(n)) out.push({ kind: "changed", what: `disk ${n.name}`, before: describeDisk(d), after: describeDisk(n) });
  }
  for (const [k, d] of disksB) if (!disksA.has(k)) out.push({ kind: "added", what: `disk ${d.name}`, before: null, after: describeDisk(d) });

  const nicsA = new Map((fa.nics ?? []).map((n) => [n.mac, n]));
  const nicsB = new Map((fb.nics ?? []).map((n) => [n.mac, n]));
  for (const [mac, n] of nicsA) {
    const m = nicsB.get(mac);
    if (!m) out.push({ kind: "removed", what: `NIC ${mac}`, before: describeNic(n), after: null });
    else if (describeNic(n) !== describeNic(m)) out.push({ kind: "changed", what: `NIC ${mac}`, before: describeNic(n), after: describeNic(m) });
  }
  for (const [mac, n] of nicsB) if (!nicsA.has(mac)) out.push({ kind: "added", what: `NIC ${mac}`, before: null, after: describeNic(n) });

  compareFields(out, "DMI", fa.dmi, fb.dmi);
  scalar("firmware", fa.firmware, fb.firmware);
  scalar("BMC address", fa.bmc?.address, fb.bmc?.address);
  return out;
}
