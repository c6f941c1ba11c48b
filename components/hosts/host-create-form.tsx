"use client";
// Add a host by hand (machines can also announce themselves by network boot and be
// accepted). The first MAC boots over the network; power secrets are sent once and never shown again.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { Field, SelectField, TextAreaField } from "../ui/field";
import { numberOrUndefined, splitList } from "../ui/parse";
import { useApi } from "../ui/use-api";

const DRIVERS = [
  { value: "manual", label: "Manual (someone presses the button)", example: "" },
  { value: "wol", label: "Wake-on-LAN", example: "broadcast=192.168.1.255\nport=9" },
  { value: "ipmi", label: "IPMI", example: "address=10.0.0.21\nport=623\nusername=admin" },
  { value: "qemu", label: "QEMU (test lab)", example: "socket=/run/kiln/vm1.sock" },
  { value: "plugin", label: "Plugin script", example: "command=/opt/kiln/power/pdu.sh\noutlet=7" },
];

type HostCreateBody = {
  name: string;
  interfaces: { mac: string; isPxe: boolean }[];
  poolId: string | null;
  tags: string[];
  cpuCores?: number;
  memoryMb?: number;
  notes: string;
  state: string;
  power: { driver: string; params: Record<string, string>; secrets?: Record<string, string> };
};

const FIELDS = ["name", "interfaces", "poolId", "tags", "cpuCores", "memoryMb", "notes", "state", "power"];

/** "key=value" lines → an object; a line without "=" becomes an error under the field. */
function parseParams(text: string): { params: Record<string, string>; bad?: string } {
  const params: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) return { params, bad: line };
    params[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { params };
}

export function HostCreateForm({ pools }: { pools: { id: string; name: string }[] }) {
  const router = useRouter();
  const api = useApi<HostCreateBody, { id: string }>("/api/v1/hosts", "POST", { fields: FIELDS });
  const [driver, setDriver] = useState("manual");
  const [paramsError, setParamsError] = useState<string | null>(null);
  const example = DRIVERS.find((d) => d.value === driver)?.example ?? "";
  return (
    <ApiForm
      formError={api.formError}
      onValues={(v) => {
        const { params, bad } = parseParams(v.powerParams ?? "");
        setParamsError(bad ? `“${bad}” is not a key=value line.` : null);
        if (bad) return;
        api.mutate(
          {
            name: v.name ?? "",
            interfaces: splitList(v.macs).map((mac, i) => ({ mac, isPxe: i === 0 })),
            poolId: v.poolId || null,
            tags: splitList(v.tags),
            cpuCores: numberOrUndefined(v.cpuCores),
            memoryMb: v.memoryGb?.trim() ? Math.round(Number(v.memoryGb) * 1024) : undefined,
            notes: v.notes ?? "",
            state: v.state ?? "available",
            power: { driver, params, ...(v.powerPassword ? { secrets: { password: v.powerPassword } } : {}) },
          },
          { onSuccess: (host) => router.push(`/hosts/${host.id}`) },
        );
      }}
    >
      <div className="grid gap-4 sm:grid-cols-2">
        <Field name="name" label="Name" placeholder="node-017" required autoFocus error={api.errorsOf("name")} />
        <SelectField name="poolId" label="Pool" defaultValue={pools[0]?.id ?? ""} error={api.errorsOf("poolId")}>
          <option value="">No pool (direct allocation only)</option>
          {pools.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
      </div>
      <TextAreaField
        name="macs"
        label="MAC addresses"
        rows={3}
        placeholder={"52:54:00:12:34:56\n52:54:00:12:34:57"}
        hint="One per line. The first is the one that boots from the network."
        required
        error={api.errorsOf("interfaces")}
      />
      <div className="grid gap-4 sm:grid-cols-3">
        <Field name="cpuCores" label="CPU cores" type="number" min={1} error={api.errorsOf("cpuCores")} />
        <Field name="memoryGb" label="Memory (GB)" type="number" min={0} step="any" error={api.errorsOf("memoryMb")} />
        <SelectField name="state" label="Start as" defaultValue="available" error={api.errorsOf("state")}>
          <option value="available">available</option>
          <option value="maintenance">maintenance</option>
        </SelectField>
      </div>
      <Field name="tags" label="Tags" placeholder="gpu, nvme, rack:b2" hint="Separated by commas or spaces." error={api.errorsOf("tags")} />
      <fieldset className="space-y-4 rounded-lg border border-stone-200 p-4">
        <legend className="px-1 text-sm font-semibold">Power control</legend>
        <SelectField label="Driver" value={driver} onChange={(e) => setDriver(e.target.value)} error={api.errorsOf("power.driver")}>
          {DRIVERS.map((d) => (
            <option key={d.value} value={d.value}>
              {d.label}
            </option>
          ))}
        </SelectField>
        {driver !== "manual" ? (
          <>
            <TextAreaField
              name="powerParams"
              label="Driver settings"
              rows={3}
              placeholder={example}
              hint="One key=value per line. Not secret: shown to administrators."
              error={paramsError ? [paramsError] : api.errorsOf("power.params")}
            />
            <Field name="powerPassword" label="Password" type="password" autoComplete="new-password" hint="Stored encrypted; never shown again." error={api.errorsOf("power.secrets")} />
          </>
        ) : null}
      </fieldset>
      <TextAreaField mono={false} name="notes" label="Notes" rows={3} error={api.errorsOf("notes")} />
      <div className="flex gap-2">
        <Button type="submit" disabled={api.isPending}>
          {api.isPending ? "Adding…" : "Add host"}
        </Button>
        <Button type="button" variant="secondary" onClick={() => router.push("/admin/hosts")}>
          Cancel
        </Button>
      </div>
    </ApiForm>
  );
}
