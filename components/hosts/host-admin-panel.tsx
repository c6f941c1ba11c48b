"use client";
// Admin controls on a host's page: state changes with a reason, accepting a discovered
// host, renaming and editing its interfaces, editing pool/tags/notes, deleting. Each refreshes
// the server-rendered page.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { DeleteButton } from "../ui/delete-button";
import { Field, SelectField, TextAreaField } from "../ui/field";
import { splitList } from "../ui/parse";
import { toast } from "../ui/toast";
import { useApi } from "../ui/use-api";
import { canTransition } from "@/lib/hosts/state-machine";
import type { HostState } from "./host-state-badge";
import { HostVarsEditor } from "./host-vars-editor";

type PoolChoice = { id: string; name: string };

export type HostInterfaceView = { mac: string; name: string; isPxe: boolean };

export type HostAdminView = { id: string; name: string; state: HostState; poolId: string | null; tags: string[]; notes: string; siteId?: string; interfaces?: HostInterfaceView[]; arch?: "x86_64" | "arm64"; piSerial?: string | null };

type SiteChoice = { id: string; name: string };

/** What an admin may set by hand: the legal moves among these (a new host is accepted instead). */
function manualTargets(from: HostState): HostState[] {
  const targets: HostState[] = from === "new" ? ["maintenance", "broken"] : ["available", "maintenance", "broken"];
  return targets.filter((to) => canTransition(from, to));
}

export function HostAdminPanel({ host, pools, sites = [], hostVars }: { host: HostAdminView; pools: PoolChoice[]; sites?: SiteChoice[]; hostVars?: Record<string, unknown> }) {
  return (
    <div className="space-y-6">
      {host.state === "new" ? <AcceptForm host={host} pools={pools} /> : null}
      <StateForm key={host.state} host={host} />
      {host.interfaces ? <IdentityForm key={`${host.name} ${host.interfaces.map((i) => `${i.mac}${i.name}${i.isPxe}`).join()}`} host={host} interfaces={host.interfaces} /> : null}
      <EditForm host={host} pools={pools} sites={sites} />
      {hostVars ? <HostVarsEditor key={JSON.stringify(hostVars)} hostId={host.id} vars={hostVars} /> : null}
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

/** Name and network interfaces: rename, add or remove a NIC, choose the one it boots from. */
function IdentityForm({ host, interfaces }: { host: HostAdminView; interfaces: HostInterfaceView[] }) {
  const router = useRouter();
  const api = useApi<{ name: string; interfaces: HostInterfaceView[] }>(`/api/v1/hosts/${host.id}`, "PATCH", { fields: ["name", "interfaces"] });
  const [name, setName] = useState(host.name);
  const [rows, setRows] = useState<(HostInterfaceView & { key: number })[]>(() => interfaces.map((i, n) => ({ ...i, key: n })));
  const [nextKey, setNextKey] = useState(interfaces.length);
  const set = (key: number, patch: Partial<HostInterfaceView>) =>
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : patch.isPxe ? { ...r, isPxe: false } : r)));
  const listErrors = Object.entries(api.fieldErrors)
    .filter(([k]) => k === "interfaces")
    .flatMap(([, v]) => v);
  return (
    <section aria-labelledby="edit-identity" className="space-y-3">
      <h2 id="edit-identity" className="font-semibold">
        Name and network interfaces
      </h2>
      <form
        noValidate
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          api.mutate(
            { name: name.trim(), interfaces: rows.map(({ mac, name: n, isPxe }) => ({ mac: mac.trim(), name: n.trim(), isPxe })) },
            {
              onSuccess: () => {
                toast(`Saved the name and interfaces of ${name.trim()}.`);
                router.refresh();
              },
            },
          );
        }}
      >
        {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
        <Field name="hostName" label="Name" value={name} onChange={(e) => setName(e.target.value)} error={api.errorsOf("name")} />
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium text-stone-800">Interfaces</legend>
          <p className="text-xs text-stone-500">The one marked “boots” is the interface it network-boots from (PXE).</p>
          {rows.map((r, n) => {
            const macError = api.fieldErrors[`interfaces.${n}.mac`];
            return (
              <div key={r.key} className="space-y-1" data-testid="interface-row">
                <div className="flex items-center gap-2">
                  <input
                    aria-label={`MAC address ${n + 1}`}
                    value={r.mac}
                    onChange={(e) => set(r.key, { mac: e.target.value })}
                    placeholder="52:54:00:12:34:56"
                    aria-invalid={macError ? true : undefined}
                    className={`w-40 rounded-md border bg-white px-2 py-1 font-mono text-xs ${macError ? "border-red-500" : "border-stone-300"}`}
                  />
                  <input
                    aria-label={`Interface name ${n + 1}`}
                    value={r.name}
                    onChange={(e) => set(r.key, { name: e.target.value })}
                    placeholder="eth0"
                    className="w-20 rounded-md border border-stone-300 bg-white px-2 py-1 text-xs"
                  />
                  <label className="flex items-center gap-1 text-xs text-stone-700">
                    <input type="radio" name="pxe" checked={r.isPxe} onChange={() => set(r.key, { isPxe: true })} aria-label={`Boots from interface ${n + 1}`} />
                    boots
                  </label>
                  <button
                    type="button"
                    disabled={rows.length === 1}
                    title={rows.length === 1 ? "A host needs at least one interface." : undefined}
                    onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}
                    aria-label={`Remove interface ${n + 1}`}
                    className="rounded px-1.5 text-stone-500 hover:bg-stone-100 hover:text-red-700 disabled:opacity-40"
                  >
                    ×
                  </button>
                </div>
                {macError ? (
                  <p role="alert" className="text-xs text-red-700">
                    {macError.join(" ")}
                  </p>
                ) : null}
              </div>
            );
          })}
          {listErrors.length ? (
            <p role="alert" className="text-sm text-red-700">
              {listErrors.join(" ")}
            </p>
          ) : null}
          <Button
            type="button"
            variant="ghost"
            disabled={rows.length >= 16}
            onClick={() => {
              setRows((rs) => [...rs, { key: nextKey, mac: "", name: "", isPxe: false }]);
              setNextKey((k) => k + 1);
            }}
          >
            + Add interface
          </Button>
        </fieldset>
        <Button type="submit" variant="secondary" disabled={api.isPending}>
          {api.isPending ? "Saving…" : "Save name and interfaces"}
        </Button>
      </form>
    </section>
  );
}

function EditForm({ host, pools, sites }: { host: HostAdminView; pools: PoolChoice[]; sites: SiteChoice[] }) {
  const router = useRouter();
  const api = useApi<{ poolId: string | null; tags: string[]; notes: string; siteId?: string; arch?: "x86_64" | "arm64"; piSerial?: string | null }>(`/api/v1/hosts/${host.id}`, "PATCH", {
    fields: ["poolId", "tags", "notes", "siteId", "arch", "piSerial"],
  });
  return (
    <section aria-labelledby="edit-host" className="space-y-3">
      <h2 id="edit-host" className="font-semibold">
        Pool, site, tags and notes
      </h2>
      <ApiForm
        formError={api.formError}
        onValues={(v) =>
          api.mutate(
            {
              poolId: v.poolId || null,
              tags: splitList(v.tags),
              notes: v.notes ?? "",
              ...(v.siteId ? { siteId: v.siteId } : {}),
              ...(v.arch === "x86_64" || v.arch === "arm64" ? { arch: v.arch } : {}),
              ...(host.arch ? { piSerial: v.piSerial?.trim() ? v.piSerial.trim() : null } : {}),
            },
            { onSuccess: () => router.refresh() },
          )
        }
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
        {host.arch ? (
          <SelectField name="arch" label="Architecture" defaultValue={host.arch} hint="Which image versions it can run; a deploy of another architecture is refused." error={api.errorsOf("arch")}>
            <option value="x86_64">x86-64 (BIOS or UEFI)</option>
            <option value="arm64">arm64 (e.g. Raspberry Pi)</option>
          </SelectField>
        ) : null}
        {host.arch ? (
          <Field name="piSerial" label="Raspberry Pi serial" defaultValue={host.piSerial ?? ""} hint="8 hex digits; its TFTP requests <serial>/… are answered for this host. Empty: none." error={api.errorsOf("piSerial")} />
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
