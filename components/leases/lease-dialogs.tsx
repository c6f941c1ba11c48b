"use client";
// Extend, release and hand over one lease. Each calls the API and reports success to
// the caller, which refreshes the list; refusals (quotas, policy) are shown as the API words them.
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { Dialog, DialogActions, FormActions } from "../ui/dialog";
import { Field, SelectField } from "../ui/field";
import { formatDateTime, formatHours } from "../ui/format";
import { numberOrUndefined } from "../ui/parse";
import { useApi } from "../ui/use-api";
import { heldHosts, type LeaseView, type PoolOption } from "./types";

type DialogProps = { lease: LeaseView; open: boolean; onClose: () => void; onDone: (message: string) => void };

function hostNames(lease: LeaseView): string {
  return heldHosts(lease)
    .map((h) => h.name)
    .join(", ");
}

/** What the wipes of the just-released hosts wait for, when Kiln cannot restart a machine itself. */
function releaseWaits(released: LeaseView): string {
  return released.hosts
    .filter((h) => h.releaseWait)
    .map((h) => ` ${h.name}: ${h.releaseWait}`)
    .join("");
}

export function ExtendLeaseDialog({ lease, pool, open, onClose, onDone }: DialogProps & { pool?: PoolOption }) {
  const api = useApi<{ hours?: number }, LeaseView>(`/api/v1/leases/${lease.id}/extend`, "POST", { fields: ["hours"] });
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Extend lease"
      description={
        <>
          {hostNames(lease)} — ends {formatDateTime(lease.endsAt)}.
          {pool ? ` Leases from pool ${pool.name} last at most ${formatHours(pool.maxLeaseHours)} in all.` : null}
        </>
      }
    >
      <ApiForm
        formError={api.formError}
        onValues={(v) =>
          api.mutate(
            { hours: numberOrUndefined(v.hours) },
            {
              onSuccess: (updated) => {
                onClose();
                onDone(`Extended: ${hostNames(updated)} now end ${formatDateTime(updated.endsAt)}.`);
              },
            },
          )
        }
      >
        <Field name="hours" label="Hours to add" type="number" min={1} step="any" defaultValue={pool?.defaultLeaseHours ?? 24} required data-autofocus error={api.errorsOf("hours")} />
        <FormActions onCancel={onClose} busy={api.isPending} busyLabel="Extending…" label="Extend" />
      </ApiForm>
    </Dialog>
  );
}

export function ReleaseLeaseDialog({ lease, open, onClose, onDone }: DialogProps) {
  const api = useApi<Record<string, never>, LeaseView>(`/api/v1/leases/${lease.id}/release`, "POST");
  const hosts = heldHosts(lease);
  return (
    <Dialog open={open} onClose={onClose} title={hosts.length === 1 ? "Release this machine?" : `Release these ${hosts.length} machines?`}>
      <div className="space-y-4">
        {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
        <p className="text-sm text-stone-700">
          <span className="font-medium">{hostNames(lease)}</span> go back to {lease.poolName ? `pool ${lease.poolName}` : "the lab"} for the next person. Copy off
          anything you need first: what is on their disks is not kept. This cannot be undone.
        </p>
        {hosts
          .filter((h) => h.releaseAdvice)
          .map((h) => (
            <Alert key={h.id} tone="info">
              <span className="font-mono font-medium">{h.name}</span>: <span data-testid="release-advice">{h.releaseAdvice}</span>
            </Alert>
          ))}
        <DialogActions>
          <Button type="button" variant="secondary" onClick={onClose} data-autofocus>
            Keep them
          </Button>
          <Button
            type="button"
            variant="danger"
            disabled={api.isPending}
            onClick={() =>
              api.mutate({}, {
                onSuccess: (released) => {
                  onClose();
                  onDone(`Released ${hostNames(lease)}.${releaseWaits(released)}`);
                },
              })
            }
          >
            {api.isPending ? "Releasing…" : "Release"}
          </Button>
        </DialogActions>
      </div>
    </Dialog>
  );
}

export function HandOverLeaseDialog({ lease, open, onClose, onDone }: DialogProps) {
  const api = useApi<{ toEmail: string; hostId?: string }, LeaseView>(`/api/v1/leases/${lease.id}/handover`, "POST", { fields: ["toEmail", "hostId"] });
  const hosts = heldHosts(lease);
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Hand over to a colleague"
      description={`They must be a member of project ${lease.projectName}. The lease keeps its end time; you stop holding what you hand over.`}
    >
      <ApiForm
        formError={api.formError}
        onValues={(v) =>
          api.mutate(
            { toEmail: v.toEmail ?? "", ...(v.hostId ? { hostId: v.hostId } : {}) },
            {
              onSuccess: () => {
                const what = v.hostId ? (hosts.find((h) => h.id === v.hostId)?.name ?? "the machine") : hostNames(lease);
                onClose();
                onDone(`Handed ${what} over to ${v.toEmail}.`);
              },
            },
          )
        }
      >
        <Field name="toEmail" label="Colleague's email" type="email" autoComplete="off" required data-autofocus error={api.errorsOf("toEmail")} />
        {hosts.length > 1 ? (
          <SelectField name="hostId" label="What to hand over" defaultValue="" error={api.errorsOf("hostId")}>
            <option value="">All {hosts.length} machines</option>
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>
                Only {h.name}
              </option>
            ))}
          </SelectField>
        ) : null}
        <FormActions onCancel={onClose} busy={api.isPending} busyLabel="Handing over…" label="Hand over" />
      </ApiForm>
    </Dialog>
  );
}
