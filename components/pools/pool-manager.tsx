"use client";
// Pools: create, edit policy, delete. Hosts of a deleted pool stay, outside any pool.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { Dialog, DialogActions, FormActions } from "../ui/dialog";
import { Field, TextAreaField } from "../ui/field";
import { formatHours } from "../ui/format";
import { numberOrUndefined } from "../ui/parse";
import { callApi, useApi } from "../ui/use-api";
import { Table } from "../ui/table";

export type PoolRowView = {
  id: string;
  name: string;
  description: string;
  defaultLeaseHours: number;
  maxLeaseHours: number;
  /** Minutes a lease stays active after its end so its holder can capture the disk (lib/leases/staged-end.ts). */
  endGraceMinutes: number;
  hostCount: number;
  availableCount: number;
};

type PoolBody = { name: string; description: string; defaultLeaseHours?: number; maxLeaseHours?: number; endGraceMinutes?: number };

const FIELDS = ["name", "description", "defaultLeaseHours", "maxLeaseHours", "endGraceMinutes"];

export function PoolManager({ pools }: { pools: PoolRowView[] }) {
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<PoolRowView | null>(null);
  const [deleting, setDeleting] = useState<PoolRowView | null>(null);
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Pools</h1>
          <p className="text-sm text-stone-600">Researchers lease from pools; each pool sets how long its leases last.</p>
        </div>
        <Button onClick={() => setCreating(true)}>New pool</Button>
      </div>
      <Table columns={[{ label: "Pool" }, { label: "Hosts" }, { label: "Default lease" }, { label: "Longest lease" }, { label: "Grace after the end" }, { label: "Actions", align: "right" }]}>
        {pools.map((p) => (
          <tr key={p.id} data-testid={`pool-row-${p.name}`}>
            <td className="px-4 py-3">
              <p className="font-medium">{p.name}</p>
              {p.description ? <p className="text-xs text-stone-500">{p.description}</p> : null}
            </td>
            <td className="px-4 py-3">
              <Link href={`/admin/hosts?pool=${p.id}`} className="text-kiln-700 hover:underline">
                {p.availableCount} available of {p.hostCount}
              </Link>
              <Link href={`/pools/${p.id}/calendar`} className="ml-3 text-kiln-700 hover:underline" aria-label={`Calendar of ${p.name}`}>
                Calendar
              </Link>
            </td>
            <td className="px-4 py-3">{formatHours(p.defaultLeaseHours)}</td>
            <td className="px-4 py-3">{formatHours(p.maxLeaseHours)}</td>
            <td className="px-4 py-3" data-testid="pool-grace">{p.endGraceMinutes > 0 ? `${p.endGraceMinutes} min` : "none"}</td>
            <td className="px-4 py-3">
              <div className="flex justify-end gap-2">
                <Button variant="secondary" className="py-1.5" onClick={() => setEditing(p)} aria-label={`Edit pool ${p.name}`}>
                  Edit
                </Button>
                <Button variant="quietDanger" className="py-1.5" onClick={() => setDeleting(p)} aria-label={`Delete pool ${p.name}`}>
                  Delete
                </Button>
              </div>
            </td>
          </tr>
        ))}
        {pools.length === 0 ? (
          <tr>
            <td colSpan={6} className="px-4 py-10 text-center text-stone-500">
              No pools yet. Create one, then put hosts in it.
            </td>
          </tr>
        ) : null}
      </Table>
      <Dialog open={creating} onClose={() => setCreating(false)} title="New pool">
        <PoolForm onDone={() => setCreating(false)} />
      </Dialog>
      <Dialog open={editing !== null} onClose={() => setEditing(null)} title={`Edit pool ${editing?.name ?? ""}`}>
        {editing ? <PoolForm pool={editing} onDone={() => setEditing(null)} /> : null}
      </Dialog>
      <Dialog open={deleting !== null} onClose={() => setDeleting(null)} title={`Delete pool ${deleting?.name ?? ""}?`}>
        {deleting ? <DeletePool pool={deleting} onDone={() => setDeleting(null)} /> : null}
      </Dialog>
    </div>
  );
}

function PoolForm({ pool, onDone }: { pool?: PoolRowView; onDone: () => void }) {
  const router = useRouter();
  const api = useApi<PoolBody>(pool ? `/api/v1/pools/${pool.id}` : "/api/v1/pools", pool ? "PATCH" : "POST", { fields: FIELDS });
  return (
    <ApiForm
      formError={api.formError}
      onValues={(v) =>
        api.mutate(
          { name: v.name ?? "", description: v.description ?? "", defaultLeaseHours: numberOrUndefined(v.defaultLeaseHours), maxLeaseHours: numberOrUndefined(v.maxLeaseHours), endGraceMinutes: numberOrUndefined(v.endGraceMinutes) },
          {
            onSuccess: () => {
              onDone();
              router.refresh();
            },
          },
        )
      }
    >
      <Field name="name" label="Name" defaultValue={pool?.name} placeholder="gpu-nodes" required data-autofocus error={api.errorsOf("name")} />
      <TextAreaField mono={false} name="description" label="Description" rows={2} defaultValue={pool?.description} hint="Shown to researchers when they choose a pool." error={api.errorsOf("description")} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field name="defaultLeaseHours" label="Default lease (hours)" type="number" min={1} defaultValue={pool?.defaultLeaseHours ?? 24} required error={api.errorsOf("defaultLeaseHours")} />
        <Field name="maxLeaseHours" label="Longest lease (hours)" type="number" min={1} defaultValue={pool?.maxLeaseHours ?? 168} required error={api.errorsOf("maxLeaseHours")} />
      </div>
      <Field
        name="endGraceMinutes"
        label="Grace after a lease ends (minutes)"
        type="number"
        min={0}
        max={10080}
        defaultValue={pool?.endGraceMinutes ?? 0}
        hint="After the end the holder may still capture the disk into an image (nothing else) before the machines are powered off and wiped. 0: none. Cut short when someone's reservation follows."
        error={api.errorsOf("endGraceMinutes")}
      />
      <FormActions onCancel={onDone} busy={api.isPending} label={pool ? "Save" : "Create pool"} />
    </ApiForm>
  );
}

function DeletePool({ pool, onDone }: { pool: PoolRowView; onDone: () => void }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="space-y-4">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <p className="text-sm text-stone-700">
        {pool.hostCount > 0
          ? `Its ${pool.hostCount} host${pool.hostCount === 1 ? "" : "s"} stay in Kiln outside any pool; they can then only be allocated directly until you move them.`
          : "The pool has no hosts."}
      </p>
      <DialogActions>
        <Button variant="secondary" onClick={onDone} data-autofocus>
          Cancel
        </Button>
        <Button
          variant="danger"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await callApi(`/api/v1/pools/${pool.id}`, "DELETE");
              onDone();
              router.refresh();
            } catch (e) {
              setError((e as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          Delete pool
        </Button>
      </DialogActions>
    </div>
  );
}
