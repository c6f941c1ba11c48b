"use client";
// Admin controls on a host's page: state changes with a reason, accepting a discovered
// host, editing pool/tags/notes, deleting. Each refreshes the server-rendered page.
import { useRouter } from "next/navigation";
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { DeleteButton } from "../ui/delete-button";
import { Field, SelectField, TextAreaField } from "../ui/field";
import { splitList } from "../ui/parse";
import { useApi } from "../ui/use-api";
import { canTransition } from "@/lib/hosts/state-machine";
import type { HostState } from "./host-state-badge";

type PoolChoice = { id: string; name: string };

export type HostAdminView = { id: string; name: string; state: HostState; poolId: string | null; tags: string[]; notes: string; siteId?: string };

type SiteChoice = { id: string; name: string };

/** What an admin may set by hand: the legal moves among these (a new host is accepted instead). */
function manualTargets(from: HostState): HostState[] {
  const targets: HostState[] = from === "new" ? ["maintenance", "broken"] : ["available", "maintenance", "broken"];
  return targets.filter((to) => canTransition(from, to));
}

export function HostAdminPanel({ host, pools, sites = [] }: { host: HostAdminView; pools: PoolChoice[]; sites?: SiteChoice[] }) {
  return (
    <div className="space-y-6">
      {host.state === "new" ? <AcceptForm host={host} pools={pools} /> : null}
      <StateForm key={host.state} host={host} />
      <EditForm host={host} pools={pools} sites={sites} />
      <DeleteHost host={host} />
    </div>
  );
}

function AcceptForm({ host, pools }: { host: HostAdminView; pools: PoolChoice[] }) {
  const router = useRouter();
  const api = useApi<{ poolId: string | null; name?: string }>(`/api/v1/hosts/${host.id}/accept`, "POST", { fields: ["poolId", "name"] });
  return (
    <section aria-labelledby="accept-host" className="space-y-3 rounded-lg border border-sky-200 bg-sky-50 p-4">
      <h2 id="accept-host" className="font-semibold text-sky-900">
        Accept this discovered host
      </h2>
      <p className="text-sm text-sky-900">It booted from the network and is waiting for an administrator. Once accepted it becomes available for leasing.</p>
      <ApiForm
        formError={api.formError}
        onValues={(v) => api.mutate({ poolId: v.poolId || null, ...(v.name && v.name !== host.name ? { name: v.name } : {}) }, { onSuccess: () => router.refresh() })}
      >
        <div className="grid gap-3 sm:grid-cols-2">
          <Field name="name" label="Name" defaultValue={host.name} error={api.errorsOf("name")} />
          <SelectField name="poolId" label="Pool" defaultValue={host.poolId ?? ""} error={api.errorsOf("poolId")}>
            <option value="">No pool</option>
            {pools.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
        </div>
        <Button type="submit" disabled={api.isPending}>
          Accept host
        </Button>
      </ApiForm>
    </section>
  );
}

function StateForm({ host }: { host: HostAdminView }) {
  const router = useRouter();
  const api = useApi<{ state: string; reason: string }>(`/api/v1/hosts/${host.id}/state`, "POST", { fields: ["state", "reason"] });
  const targets = manualTargets(host.state);
  return (
    <section aria-labelledby="change-state" className="space-y-3">
      <h2 id="change-state" className="font-semibold">
        Change state
      </h2>
      <ApiForm
        formError={api.formError}
        onValues={(v, form) =>
          api.mutate(
            { state: v.state ?? "", reason: v.reason ?? "" },
            {
              onSuccess: () => {
                form.reset();
                router.refresh();
              },
            },
          )
        }
        className="space-y-3"
      >
        {api.isSuccess ? <Alert tone="success">State changed.</Alert> : null}
        <SelectField name="state" label="New state" defaultValue={targets[0]} error={api.errorsOf("state")}>
          {targets.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </SelectField>
        <Field name="reason" label="Reason" placeholder="e.g. replacing a failed disk" hint="Kept in the host's timeline and the audit log." error={api.errorsOf("reason")} />
        <Button type="submit" variant="secondary" disabled={api.isPending}>
          Change state
        </Button>
      </ApiForm>
    </section>
  );
}

function EditForm({ host, pools, sites }: { host: HostAdminView; pools: PoolChoice[]; sites: SiteChoice[] }) {
  const router = useRouter();
  const api = useApi<{ poolId: string | null; tags: string[]; notes: string; siteId?: string }>(`/api/v1/hosts/${host.id}`, "PATCH", { fields: ["poolId", "tags", "notes", "siteId"] });
  return (
    <section aria-labelledby="edit-host" className="space-y-3">
      <h2 id="edit-host" className="font-semibold">
        Pool, site, tags and notes
      </h2>
      <ApiForm
        formError={api.formError}
        onValues={(v) => api.mutate({ poolId: v.poolId || null, tags: splitList(v.tags), notes: v.notes ?? "", ...(v.siteId ? { siteId: v.siteId } : {}) }, { onSuccess: () => router.refresh() })}
        className="space-y-3"
      >
        {api.isSuccess ? <Alert tone="success">Saved.</Alert> : null}
        <SelectField name="poolId" label="Pool" defaultValue={host.poolId ?? ""} error={api.errorsOf("poolId")}>
          <option value="">No pool (direct allocation only)</option>
          {pools.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
        {sites.length > 0 && host.siteId ? (
          <SelectField name="siteId" label="Site" defaultValue={host.siteId} hint="Its site's boot server answers it, at that site's boot URL." error={api.errorsOf("siteId")}>
            {sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </SelectField>
        ) : null}
        <Field name="tags" label="Tags" defaultValue={host.tags.join(", ")} hint="Separated by commas or spaces: gpu, nvme, rack:b2" error={api.errorsOf("tags")} />
        <TextAreaField mono={false} name="notes" label="Notes" rows={4} defaultValue={host.notes} error={api.errorsOf("notes")} />
        <Button type="submit" variant="secondary" disabled={api.isPending}>
          Save
        </Button>
      </ApiForm>
    </section>
  );
}

function DeleteHost({ host }: { host: HostAdminView }) {
  return (
    <section className="border-t border-stone-200 pt-4">
      <DeleteButton
        label="Delete host…"
        title={`Delete ${host.name}?`}
        explanation="The host and its interfaces are removed from Kiln. A host with lease history cannot be deleted; put it in maintenance instead."
        url={`/api/v1/hosts/${host.id}`}
        redirectTo="/admin/hosts"
      />
    </section>
  );
}
