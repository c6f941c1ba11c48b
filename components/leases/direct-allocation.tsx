"use client";
// Admins allocate given hosts to a person, bypassing pools (MOCAS' "direct allocation").
// Hosts are picked by searching the available ones; the person is named by email and
// resolved to an account here, since the API takes ids.
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, FormActions } from "../ui/dialog";
import { Field, SelectField } from "../ui/field";
import { formatDateTime } from "../ui/format";
import { numberOrUndefined } from "../ui/parse";
import { useDebounced } from "../ui/use-debounced";
import { ApiError, callApi, errorsOf, formValues, type ApiFailure } from "../ui/use-api";
import type { LeaseView } from "./types";

type HostHit = { id: string; name: string; poolName?: string | null; cpuCores: number | null; memoryMb: number | null };
type UserHit = { id: string; email: string; name: string; status: string };
type Page<T> = { data: T[] };

export function DirectAllocationButton({ projects }: { projects: { id: string; name: string }[] }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>Allocate hosts</Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Allocate hosts directly" description="Lease given hosts to someone, whatever pool they are in. Project quotas still apply." size="lg">
        <DirectAllocationForm projects={projects} onDone={() => setOpen(false)} />
      </Dialog>
    </>
  );
}

function DirectAllocationForm({ projects, onDone }: { projects: { id: string; name: string }[]; onDone: () => void }) {
  const router = useRouter();
  const [hosts, setHosts] = useState<HostHit[]>([]);
  const [search, setSearch] = useState("");
  const [email, setEmail] = useState("");
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const q = useDebounced(search.trim());
  const userQ = useDebounced(email.trim());

  const hits = useQuery({
    queryKey: ["hosts", "available", q],
    queryFn: () => callApi<Page<HostHit>>(`/api/v1/hosts?${new URLSearchParams({ state: "available", per_page: "15", ...(q ? { q } : {}) })}`, "GET"),
  });
  const users = useQuery({
    queryKey: ["users", userQ],
    queryFn: () => callApi<Page<UserHit>>(`/api/v1/users?${new URLSearchParams({ q: userQ, per_page: "8" })}`, "GET"),
    enabled: userQ.length >= 2,
  });
  const chosen = new Set(hosts.map((h) => h.id));
  const errors = failure?.fieldErrors ?? {};
  const fieldMessages = new Set(["hostIds", "userId", "userEmail", "projectId", "durationHours"].flatMap((f) => errorsOf(errors, f) ?? []));
  const formError = failure && !fieldMessages.has(failure.message) ? failure.message : undefined;

  const submit = async (form: HTMLFormElement) => {
    const v = formValues(form);
    setFailure(null);
    setDone(null);
    if (hosts.length === 0) {
      setFailure({ message: "Choose at least one host.", code: "validation", status: 400, fieldErrors: { hostIds: ["Choose at least one host."] } });
      return;
    }
    setBusy(true);
    try {
      const found = await callApi<Page<UserHit>>(`/api/v1/users?${new URLSearchParams({ q: email.trim(), per_page: "20" })}`, "GET");
      const user = found.data.find((u) => u.email.toLowerCase() === email.trim().toLowerCase());
      if (!user) {
        const message = email.trim() ? `No Kiln account has the email ${email.trim()}.` : "Enter the email of the person who gets the hosts.";
        setFailure({ message, code: "validation", status: 400, fieldErrors: { userEmail: [message] } });
        return;
      }
      const lease = await callApi<LeaseView>("/api/v1/leases", "POST", {
        hostIds: hosts.map((h) => h.id),
        userId: user.id,
        projectId: v.projectId || undefined,
        durationHours: numberOrUndefined(v.durationHours),
      });
      setDone(`Leased ${lease.hosts.map((h) => h.name).join(", ")} to ${lease.userEmail} until ${formatDateTime(lease.endsAt)}.`);
      setHosts([]);
      router.refresh();
    } catch (e) {
      if (e instanceof ApiError) setFailure(e.failure);
      else throw e;
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      noValidate
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(e.currentTarget);
      }}
    >
      {formError ? <Alert tone="error">{formError}</Alert> : null}
      {done ? <Alert tone="success">{done}</Alert> : null}
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-stone-800">Hosts</legend>
        {hosts.length > 0 ? (
          <ul className="flex flex-wrap gap-2" aria-label="Chosen hosts">
            {hosts.map((h) => (
              <li key={h.id} className="flex items-center gap-1 rounded-full bg-kiln-50 py-0.5 pl-3 pr-1 font-mono text-sm text-kiln-700 ring-1 ring-kiln-100">
                {h.name}
                <button type="button" onClick={() => setHosts(hosts.filter((x) => x.id !== h.id))} aria-label={`Remove ${h.name}`} className="rounded-full px-1.5 hover:bg-kiln-100">
                  ×
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-stone-500">None chosen yet.</p>
        )}
        <Field label="Find available hosts" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name or MAC" autoComplete="off" error={errorsOf(errors, "hostIds")} />
        <ul className="max-h-48 divide-y divide-stone-100 overflow-y-auto rounded-md border border-stone-200" aria-label="Available hosts">
          {(hits.data?.data ?? [])
            .filter((h) => !chosen.has(h.id))
            .map((h) => (
              <li key={h.id} className="flex items-center justify-between gap-2 px-3 py-1.5 text-sm">
                <span>
                  <span className="font-mono font-medium">{h.name}</span>
                  <span className="text-stone-500"> · {h.poolName ?? "no pool"}</span>
                </span>
                <Button type="button" variant="ghost" className="py-1" onClick={() => setHosts([...hosts, h])} aria-label={`Add ${h.name}`}>
                  Add
                </Button>
              </li>
            ))}
          {hits.isSuccess && hits.data.data.filter((h) => !chosen.has(h.id)).length === 0 ? <li className="px-3 py-3 text-sm text-stone-500">No available host matches.</li> : null}
          {hits.isError ? <li className="px-3 py-3 text-sm text-red-700">{hits.error.message}</li> : null}
        </ul>
      </fieldset>
      <Field
        name="userEmail"
        label="For (email)"
        type="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        list="allocation-users"
        autoComplete="off"
        error={errorsOf(errors, "userEmail") ?? errorsOf(errors, "userId")}
      />
      <datalist id="allocation-users">
        {(users.data?.data ?? []).map((u) => (
          <option key={u.id} value={u.email}>
            {u.name}
          </option>
        ))}
      </datalist>
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectField name="projectId" label="Charge to project" defaultValue="" error={errorsOf(errors, "projectId")}>
          <option value="">Their only project</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
        <Field name="durationHours" label="Hours" type="number" min={1} step="any" defaultValue={24} error={errorsOf(errors, "durationHours")} />
      </div>
      <FormActions onCancel={onDone} cancelLabel="Close" busy={busy} busyLabel="Allocating…" label="Allocate" />
    </form>
  );
}
