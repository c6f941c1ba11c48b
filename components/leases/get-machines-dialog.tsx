"use client";
// Ask for machines from a pool. The pool list is re-read on every opening, so the
// available counts are current; the Hardware section counts matching free hosts as you type;
// a refusal (no host free, none with that hardware, a quota) is shown as the API words it.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { Dialog, FormActions } from "../ui/dialog";
import { Field, SelectField } from "../ui/field";
import { formatHours } from "../ui/format";
import { numberOrUndefined } from "../ui/parse";
import { callApi, useApi } from "../ui/use-api";
import { EMPTY_HARDWARE, HARDWARE_API_FIELDS, HardwareFields, hardwareCriteria, PoolMatchCount, type HardwareCriteria, type HardwareInput } from "./hardware-fields";
import type { LeaseView, PoolOption, ProjectOption } from "./types";

type LeaseRequest = HardwareCriteria & {
  poolId: string;
  count?: number;
  durationHours?: number;
  projectId?: string;
};

const FIELDS = ["poolId", "count", "durationHours", "projectId", ...HARDWARE_API_FIELDS];

export function GetMachinesDialog({
  open,
  onClose,
  onLeased,
  pools: initialPools,
  projects,
}: {
  open: boolean;
  onClose: () => void;
  onLeased: (lease: LeaseView) => void;
  pools: PoolOption[];
  projects: ProjectOption[];
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Get machines" description="Machines come from a pool and are charged to one of your projects." size="lg">
      <GetMachinesForm onClose={onClose} onLeased={onLeased} initialPools={initialPools} projects={projects} />
    </Dialog>
  );
}

function GetMachinesForm({ onClose, onLeased, initialPools, projects }: { onClose: () => void; onLeased: (lease: LeaseView) => void; initialPools: PoolOption[]; projects: ProjectOption[] }) {
  const pools = useQuery({
    queryKey: ["pools"],
    queryFn: async () => (await callApi<{ data: PoolOption[] }>("/api/v1/pools?per_page=500", "GET")).data,
    initialData: initialPools,
  }).data;
  const api = useApi<LeaseRequest, LeaseView>("/api/v1/leases", "POST", { fields: FIELDS });
  const firstFree = pools.find((p) => p.availableCount > 0) ?? pools[0];
  const [poolId, setPoolId] = useState(firstFree?.id ?? "");
  const pool = pools.find((p) => p.id === poolId);
  const [hours, setHours] = useState(String(pool?.defaultLeaseHours ?? 24));
  const [hardware, setHardware] = useState<HardwareInput>(EMPTY_HARDWARE);
  const criteria = hardwareCriteria(hardware);
  const hardwareError = HARDWARE_API_FIELDS.some((f) => api.errorsOf(f));

  if (pools.length === 0) {
    return <p className="text-sm text-stone-600">There are no pools yet. An administrator creates pools and puts machines in them.</p>;
  }
  return (
    <ApiForm
      formError={api.formError}
      onValues={(v) =>
        api.mutate(
          {
            poolId: v.poolId ?? "",
            count: numberOrUndefined(v.count),
            durationHours: numberOrUndefined(v.durationHours),
            ...(v.projectId ? { projectId: v.projectId } : {}),
            ...criteria,
          },
          { onSuccess: onLeased },
        )
      }
    >
      <SelectField
        name="poolId"
        label="Pool"
        value={poolId}
        onChange={(e) => {
          setPoolId(e.target.value);
          const next = pools.find((p) => p.id === e.target.value);
          if (next) setHours(String(next.defaultLeaseHours));
        }}
        hint={pool?.description || undefined}
        error={api.errorsOf("poolId")}
      >
        {pools.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name} — {p.availableCount} of {p.hostCount} available, up to {formatHours(p.maxLeaseHours)}
          </option>
        ))}
      </SelectField>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field name="count" label="How many machines" type="number" min={1} defaultValue={1} required error={api.errorsOf("count")} />
        <Field
          name="durationHours"
          label="For how many hours"
          type="number"
          min={1}
          step="any"
          value={hours}
          onChange={(e) => setHours(e.target.value)}
          hint={pool ? `Pool ${pool.name}: ${formatHours(pool.defaultLeaseHours)} by default, at most ${formatHours(pool.maxLeaseHours)}.` : undefined}
          error={api.errorsOf("durationHours")}
        />
      </div>
      {projects.length > 1 ? (
        <SelectField name="projectId" label="Charge to project" defaultValue="" error={api.errorsOf("projectId")}>
          <option value="" disabled>
            Choose a project…
          </option>
          {projects.map((p) => (
            <option key={p.projectId} value={p.projectId}>
              {p.name}
            </option>
          ))}
        </SelectField>
      ) : projects[0] ? (
        <p className="text-sm text-stone-600">
          Charged to project <span className="font-medium text-stone-800">{projects[0].name}</span>.
        </p>
      ) : null}
      <details className="rounded-md border border-stone-200 px-3 py-2" open={hardwareError || undefined}>
        <summary className="cursor-pointer text-sm font-medium text-stone-700">Hardware (optional)</summary>
        <div className="mt-3 space-y-3">
          {pool ? <PoolMatchCount poolId={pool.id} poolName={pool.name} criteria={criteria} /> : null}
          <HardwareFields values={hardware} onChange={setHardware} errorsOf={api.errorsOf} />
        </div>
      </details>
      <FormActions onCancel={onClose} busy={api.isPending} busyLabel="Leasing…" label="Get machines" />
    </ApiForm>
  );
}
