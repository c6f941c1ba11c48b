"use client";
// The calendar's two forms for a selected slot: book it (a reservation, maybe ready at its start)
// or, for an admin, take it out of service (a maintenance window). The times come from the drag
// and can be typed over; the server says whether the slot is free.
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { FormActions } from "@/components/ui/dialog";
import { Field, SelectField } from "@/components/ui/field";
import { deployFieldErrors, deployOf, NO_DEPLOY, ReadyAtStartFields, type ReadyChoice } from "@/components/reservations/ready-at-start-fields";
import { callApi, ApiError } from "@/components/ui/use-api";
import type { CalendarHost, Draft } from "./slot-types";
import { formatRange, fromLocalInput, toLocalInput } from "./week";

/** The form's Start and End as typed (datetime-local, the browser's time zone) and as dates. */
function useTimes(draft: Draft) {
  const [start, setStart] = useState(toLocalInput(draft.startsAt));
  const [end, setEnd] = useState(toLocalInput(draft.endsAt));
  return { start, setStart, end, setEnd, startsAt: fromLocalInput(start), endsAt: fromLocalInput(end) };
}

function TimeRangeFields({ times }: { times: ReturnType<typeof useTimes> }) {
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      <Field label="Start" type="datetime-local" required value={times.start} onChange={(e) => times.setStart(e.target.value)} />
      <Field label="End" type="datetime-local" required value={times.end} onChange={(e) => times.setEnd(e.target.value)} />
    </div>
  );
}

export function BookingForm({
  pool,
  hosts,
  draft,
  projects,
  onCancel,
  onSaved,
}: {
  pool: { id: string; name: string };
  hosts: CalendarHost[];
  draft: Draft;
  projects: { projectId: string; name: string }[];
  onCancel: () => void;
  onSaved: (message: string) => void;
}) {
  const times = useTimes(draft);
  const chosen = hosts.filter((h) => draft.hostIds.includes(h.id));
  const [exact, setExact] = useState(chosen.length > 0);
  const [count, setCount] = useState(String(Math.max(1, chosen.length)));
  const [title, setTitle] = useState("");
  const [projectId, setProjectId] = useState(projects[0]?.projectId ?? "");
  const [ready, setReady] = useState<ReadyChoice>(NO_DEPLOY);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!times.startsAt || !times.endsAt) return setError("Give a start and an end.");
    setBusy(true);
    setError(null);
    setFieldErrors({});
    const deploy = deployOf(ready);
    try {
      await callApi("/api/v1/reservations", "POST", {
        poolId: pool.id,
        ...(exact && chosen.length ? { hostIds: chosen.map((h) => h.id) } : { count: Number(count) }),
        startsAt: times.startsAt.toISOString(),
        endsAt: times.endsAt.toISOString(),
        ...(title.trim() ? { title: title.trim() } : {}),
        ...(projectId ? { projectId } : {}),
        ...(deploy ? { deploy } : {}),
      });
      onSaved(`Booked: ${exact && chosen.length ? chosen.map((h) => h.name).join(", ") : `${count} host${count === "1" ? "" : "s"}`}, ${formatRange(times.startsAt, times.endsAt)}.`);
    } catch (err) {
      // The server's own words: which project holds the time, until when, which quota.
      setError(err instanceof ApiError ? err.failure.message : String(err));
      if (err instanceof ApiError) setFieldErrors(deployFieldErrors(err.failure.fieldErrors));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-4" aria-label="Booking">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <TimeRangeFields times={times} />
      {chosen.length ? (
        <label className="flex items-start gap-2 text-sm text-stone-800">
          <input type="checkbox" className="mt-1" checked={exact} onChange={(e) => setExact(e.target.checked)} />
          <span>
            Exactly the hosts selected: <strong>{chosen.map((h) => h.name).join(", ")}</strong>
          </span>
        </label>
      ) : null}
      {!exact || !chosen.length ? (
        <Field label="Number of hosts" type="number" min={1} max={hosts.length || undefined} required value={count} onChange={(e) => setCount(e.target.value)} hint="Kiln picks free hosts of the pool for the whole time." />
      ) : null}
      <Field label="Title" value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} hint="Shown to you and administrators; others see only your project." />
      {projects.length > 1 ? (
        <SelectField label="Project" value={projectId} onChange={(e) => setProjectId(e.target.value)}>
          {projects.map((p) => (
            <option key={p.projectId} value={p.projectId}>
              {p.name}
            </option>
          ))}
        </SelectField>
      ) : null}
      <ReadyAtStartFields value={ready} onChange={setReady} fieldErrors={fieldErrors} />
      <FormActions onCancel={onCancel} label="Book" busy={busy} busyLabel="Booking…" />
    </form>
  );
}

export function MaintenanceForm({
  pool,
  hosts,
  draft,
  onCancel,
  onSaved,
}: {
  pool: { id: string; name: string };
  hosts: CalendarHost[];
  draft: Draft;
  onCancel: () => void;
  onSaved: (message: string) => void;
}) {
  const times = useTimes(draft);
  const single = draft.hostIds.length === 1 ? hosts.find((h) => h.id === draft.hostIds[0]) : undefined;
  const [target, setTarget] = useState(single ? single.id : "pool");
  const [reason, setReason] = useState("");
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!times.startsAt || !times.endsAt) return setError("Give a start and an end.");
    setBusy(true);
    setError(null);
    try {
      await callApi("/api/v1/maintenance-windows", "POST", {
        ...(target === "pool" ? { poolId: pool.id } : { hostId: target }),
        startsAt: times.startsAt.toISOString(),
        endsAt: times.endsAt.toISOString(),
        reason: reason.trim(),
        force,
      });
      const what = target === "pool" ? `the whole pool ${pool.name}` : (hosts.find((h) => h.id === target)?.name ?? "the host");
      onSaved(`Maintenance of ${what}, ${formatRange(times.startsAt, times.endsAt)}.`);
    } catch (err) {
      setError(err instanceof ApiError ? err.failure.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-4" aria-label="Maintenance window">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <TimeRangeFields times={times} />
      <SelectField label="Out of service" value={target} onChange={(e) => setTarget(e.target.value)}>
        <option value="pool">The whole pool</option>
        {hosts.map((h) => (
          <option key={h.id} value={h.id}>
            {h.name}
          </option>
        ))}
      </SelectField>
      <Field label="Reason" value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} hint="Shown on the calendar and in the pool's feed." />
      <label className="flex items-start gap-2 text-sm text-stone-800">
        <input type="checkbox" className="mt-1" checked={force} onChange={(e) => setForce(e.target.checked)} />
        <span>Create it even where active leases hold hosts then (they are not ended).</span>
      </label>
      <FormActions onCancel={onCancel} label="Add maintenance window" busy={busy} busyLabel="Adding…" />
    </form>
  );
}
