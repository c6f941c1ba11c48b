"use client";
// The lease dialog's Hardware section: what the researcher asks of each machine (as in MAAS or
// Chameleon: "16 cores, 64 GB, an SSD of 500 GB"), and, as they type, how many free hosts of
// the chosen pool meet it (GET /pools/{id}/matches, the allocation's own SQL).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Field, SelectField } from "../ui/field";
import { numberOrUndefined, splitList } from "../ui/parse";
import { useDebounced } from "../ui/use-debounced";
import { callApi } from "../ui/use-api";

/** The fields as typed; people think in GB and Gb/s, the API takes MB and Mb/s. */
export type HardwareInput = {
  tags: string;
  minCores: string;
  minMemoryGb: string;
  minDiskGb: string;
  diskType: string;
  firmware: string;
  cpuModel: string;
  minNicSpeedGbps: string;
};

export const EMPTY_HARDWARE: HardwareInput = { tags: "", minCores: "", minMemoryGb: "", minDiskGb: "", diskType: "", firmware: "", cpuModel: "", minNicSpeedGbps: "" };

/** The API field each input's errors come back under. */
export const HARDWARE_API_FIELDS = ["tags", "minCores", "minMemoryMb", "minDiskGb", "diskType", "firmware", "cpuModel", "minNicSpeedMbps"];

export type HardwareCriteria = {
  tags: string[];
  minCores?: number;
  minMemoryMb?: number;
  minDiskGb?: number;
  diskType?: string;
  firmware?: string;
  cpuModel?: string;
  minNicSpeedMbps?: number;
};

function scaled(value: string, factor: number): number | undefined {
  const n = numberOrUndefined(value);
  // Left as typed when not a number, so the API's message names the field.
  return n === undefined || Number.isNaN(n) ? n : Math.round(n * factor);
}

export function hardwareCriteria(v: HardwareInput): HardwareCriteria {
  const out: HardwareCriteria = { tags: splitList(v.tags) };
  const put = <K extends keyof HardwareCriteria>(k: K, value: HardwareCriteria[K] | undefined) => {
    if (value !== undefined && value !== "") out[k] = value;
  };
  put("minCores", numberOrUndefined(v.minCores));
  put("minMemoryMb", scaled(v.minMemoryGb, 1024));
  put("minDiskGb", numberOrUndefined(v.minDiskGb));
  put("diskType", v.diskType || undefined);
  put("firmware", v.firmware || undefined);
  put("cpuModel", v.cpuModel.trim() || undefined);
  put("minNicSpeedMbps", scaled(v.minNicSpeedGbps, 1000));
  return out;
}

/** The same criteria as a query string for the count. */
export function hardwareQuery(c: HardwareCriteria): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(c)) {
    if (k === "tags") {
      if ((v as string[]).length) q.set("tags", (v as string[]).join(","));
    } else if (v !== undefined) q.set(k, String(v));
  }
  return q.toString();
}

export function HardwareFields({ values, onChange, errorsOf }: { values: HardwareInput; onChange: (v: HardwareInput) => void; errorsOf: (field: string) => string[] | undefined }) {
  const set = (k: keyof HardwareInput) => (e: { target: { value: string } }) => onChange({ ...values, [k]: e.target.value });
  return (
    <div className="grid gap-4 sm:grid-cols-3">
      <Field name="tags" label="Tags" placeholder="gpu, rack3" hint="All of them must be present." value={values.tags} onChange={set("tags")} error={errorsOf("tags")} />
      <Field name="minCores" label="At least (cores)" type="number" min={1} value={values.minCores} onChange={set("minCores")} error={errorsOf("minCores")} />
      <Field name="minMemoryGb" label="At least (GB memory)" type="number" min={1} step="any" value={values.minMemoryGb} onChange={set("minMemoryGb")} error={errorsOf("minMemoryMb")} />
      <Field name="minDiskGb" label="A disk of at least (GB)" type="number" min={1} value={values.minDiskGb} onChange={set("minDiskGb")} hint="One disk this large (1 GB = 10⁹ bytes)." error={errorsOf("minDiskGb")} />
      <SelectField name="diskType" label="Disk type" value={values.diskType} onChange={set("diskType")} hint={values.diskType === "ssd" ? "SSD or NVMe." : undefined} error={errorsOf("diskType")}>
        <option value="">Any</option>
        <option value="ssd">Solid-state (SSD or NVMe)</option>
        <option value="nvme">NVMe</option>
        <option value="hdd">Rotating (HDD)</option>
      </SelectField>
      <SelectField name="firmware" label="Firmware" value={values.firmware} onChange={set("firmware")} error={errorsOf("firmware")}>
        <option value="">Any</option>
        <option value="uefi">UEFI</option>
        <option value="bios">BIOS</option>
      </SelectField>
      <Field name="cpuModel" label="CPU model contains" placeholder="EPYC" value={values.cpuModel} onChange={set("cpuModel")} error={errorsOf("cpuModel")} />
      <Field name="minNicSpeedGbps" label="A network link of at least (Gb/s)" type="number" min={0.1} step="any" value={values.minNicSpeedGbps} onChange={set("minNicSpeedGbps")} error={errorsOf("minNicSpeedMbps")} />
    </div>
  );
}

type PoolMatches = { free: number; matching: number; withoutFacts: number; criteria: { criterion: string; label: string; matching: number }[] };

/** "3 of the 12 free hosts in pool gpu match", updated as the researcher types. */
export function PoolMatchCount({ poolId, poolName, criteria }: { poolId: string; poolName: string; criteria: HardwareCriteria }) {
  const query = useDebounced(hardwareQuery(criteria), 300);
  const matches = useQuery({
    queryKey: ["pool-matches", poolId, query],
    queryFn: () => callApi<PoolMatches>(`/api/v1/pools/${poolId}/matches${query ? `?${query}` : ""}`, "GET"),
    placeholderData: keepPreviousData,
    enabled: Boolean(poolId),
    retry: false,
  });
  let text: string;
  if (matches.error) text = matches.error.message;
  else if (!matches.data) text = "Counting free hosts…";
  else {
    const m = matches.data;
    const free = `${m.free} free host${m.free === 1 ? "" : "s"} in pool ${poolName}`;
    if (m.criteria.length === 0) text = `${free}.`;
    else text = `${m.matching === 0 ? "None" : m.matching} of the ${free} ${m.matching === 1 ? "matches" : "match"}.`;
  }
  const m = matches.data;
  return (
    <div className="rounded-md bg-stone-50 px-3 py-2 text-sm" data-testid="pool-match-count">
      <p role="status" aria-live="polite" className={matches.error ? "text-red-700" : m && m.criteria.length > 0 && m.matching === 0 ? "font-medium text-amber-800" : "font-medium text-stone-800"}>
        {text}
      </p>
      {m && !matches.error && m.criteria.length > 1 ? (
        <ul className="mt-1 text-xs text-stone-600">
          {m.criteria.map((c) => (
            <li key={c.criterion}>
              {c.matching} with {c.label}
            </li>
          ))}
        </ul>
      ) : null}
      {m && !matches.error && m.criteria.length > 0 && m.withoutFacts > 0 ? (
        <p className="mt-1 text-xs text-stone-500">
          {m.withoutFacts} free host{m.withoutFacts === 1 ? " has" : "s have"} no hardware facts yet (never commissioned) and match no hardware requirement.
        </p>
      ) : null}
    </div>
  );
}
