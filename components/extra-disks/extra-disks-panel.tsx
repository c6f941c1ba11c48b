"use client";
// The holder's extra disks for one held host (POST/DELETE /api/v1/leases/:id/disks): the list
// with each disk's state, and a form to ask for more. While a disk is being made or wiped the
// page refreshes itself, so "creating" turns into "ready" without a reload.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { AutoRefresh } from "../ui/auto-refresh";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { DeleteButton } from "../ui/delete-button";
import { Field } from "../ui/field";
import { formatBytes } from "../ui/format";
import { toast } from "../ui/toast";
import { useApi } from "../ui/use-api";
import type { LeaseDiskView } from "@/lib/validation/extra-disks";

const TONE = { creating: "amber", ready: "green", wiping: "amber", wiped: "stone" } as const;

export function ExtraDisksPanel({ leaseId, hostId, disks, limits }: { leaseId: string; hostId: string; disks: LeaseDiskView[]; limits: { perHost: number; maxSizeGb: number } }) {
  const router = useRouter();
  const [count, setCount] = useState("1");
  const [sizeGb, setSizeGb] = useState("10");
  const api = useApi<{ hostId: string; count: number; sizeGb: number }>(`/api/v1/leases/${leaseId}/disks`, "POST", { fields: ["count", "sizeGb"] });
  const busy = disks.some((d) => d.state === "creating" || d.state === "wiping");
  const live = disks.filter((d) => d.state !== "wiping").length;
  return (
    <div className="space-y-4" data-testid="extra-disks-panel">
      {busy ? <AutoRefresh seconds={3} /> : null}
      {disks.length === 0 ? (
        <p className="text-sm text-stone-500">No extra disks. They are wiped when the host leaves your lease.</p>
      ) : (
        <ul className="divide-y divide-stone-100" data-testid="extra-disks">
          {disks.map((d) => (
            <li key={d.id} className="flex flex-wrap items-center gap-3 py-2 text-sm">
              <span className="font-mono font-medium">{d.name}</span>
              <span>{formatBytes(d.sizeBytes)}</span>
              <Badge tone={TONE[d.state]}>{d.state === "ready" && !d.exported ? "ready (not exported)" : d.state}</Badge>
              {d.lastError ? <span className="text-xs text-red-700">Kiln keeps trying: {d.lastError}</span> : null}
              {d.state === "creating" || d.state === "ready" ? (
                <span className="ml-auto">
                  <DeleteButton
                    label="Delete…"
                    title={`Delete ${d.name}?`}
                    explanation={`Its export stops and its file is deleted with everything written to it. This cannot be undone.`}
                    url={`/api/v1/leases/${leaseId}/disks/${d.id}`}
                    confirmLabel={`Delete ${d.name}`}
                  />
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          api.mutate(
            { hostId, count: Number(count), sizeGb: Number(sizeGb) },
            {
              onSuccess: () => {
                toast(`Asked for ${count} disk${count === "1" ? "" : "s"} of ${sizeGb} GB; they are ready within seconds.`);
                router.refresh();
              },
            },
          );
        }}
      >
        <div className="w-28">
          <Field label="Disks" name="count" type="number" min={1} max={limits.perHost} value={count} onChange={(e) => setCount(e.target.value)} error={api.errorsOf("count")} />
        </div>
        <div className="w-40">
          <Field label="Size of each (GB)" name="sizeGb" type="number" min={0.001} step="any" max={limits.maxSizeGb} value={sizeGb} onChange={(e) => setSizeGb(e.target.value)} error={api.errorsOf("sizeGb")} />
        </div>
        <Button type="submit" disabled={api.isPending || live >= limits.perHost}>
          Add disks
        </Button>
      </form>
      {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
      <p className="text-xs text-stone-500">
        At most {limits.perHost} per host, {limits.maxSizeGb} GB each. Each counts at its full size against your and the project&apos;s storage quotas (the file is sparse, but may fill).
        Templates see them as <code className="font-mono">extra_disks</code> (name, size, device, <code className="font-mono">nbd.host/port/export</code>); the ramdisk attaches them from{" "}
        <code className="font-mono">{"{{ kiln.extra_disks_arg }}"}</code>.
      </p>
    </div>
  );
}
