// The admin host list's hardware filters in the units people type (GB of memory, Gb/s), turned
// into the API's (MB, Mb/s) for GET /hosts and listHosts; and a host's disks in a few words.
// Pure, shared by the server page and the table.

/** Query keys the filter form sends that the API takes under another name and unit. */
const CONVERSIONS: { from: string; to: string; factor: number }[] = [
  { from: "minMemoryGb", to: "minMemoryMb", factor: 1024 },
  { from: "minNicSpeedGbps", to: "minNicSpeedMbps", factor: 1000 },
];

/** The page's query with GB and Gb/s turned into MB and Mb/s; a value that is not a number is passed on for the API to refuse by name. */
export function hostListQueryOf(params: Record<string, string>): Record<string, string> {
  const out = { ...params };
  for (const c of CONVERSIONS) {
    const v = out[c.from];
    if (v === undefined) continue;
    delete out[c.from];
    const n = Number(v);
    out[c.to] = v.trim() !== "" && Number.isFinite(n) ? String(Math.round(n * c.factor)) : v;
  }
  return out;
}

type Disk = { name?: string; sizeBytes?: number; rotational?: boolean; type?: string };

/** A disk's kind as the allocation reads it (db/queries/host-criteria.ts): its type, else nvme* names, else the rotational flag. */
export function diskKind(d: Disk): "hdd" | "ssd" | "nvme" | null {
  if (d.type === "hdd" || d.type === "ssd" || d.type === "nvme") return d.type;
  if (d.name?.startsWith("nvme")) return "nvme";
  if (typeof d.rotational === "boolean") return d.rotational ? "hdd" : "ssd";
  return null;
}

function sizeText(bytes: number): string {
  return bytes >= 1e12 ? `${Math.round((bytes / 1e12) * 10) / 10} TB` : `${Math.round(bytes / 1e9)} GB`;
}

/** "NVMe 1 TB, HDD 4 TB" — null when no disk is known. */
export function describeDisks(disks: Disk[]): string | null {
  if (!disks.length) return null;
  return disks
    .map((d) => {
      const kind = diskKind(d);
      const label = kind === "nvme" ? "NVMe" : kind === "ssd" ? "SSD" : kind === "hdd" ? "HDD" : "disk";
      return typeof d.sizeBytes === "number" ? `${label} ${sizeText(d.sizeBytes)}` : label;
    })
    .join(", ");
}
