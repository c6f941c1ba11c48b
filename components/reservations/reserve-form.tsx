"use client";
// The plain "Reserve" form of /reservations: a pool, a count, a start and an end (in the browser's
// time zone, sent as UTC). The calendar page books by dragging; this is for when you know the time.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ApiForm } from "@/components/ui/api-form";
import { Button } from "@/components/ui/button";
import { Field, SelectField } from "@/components/ui/field";
import { ApiError, callApi } from "@/components/ui/use-api";
import { deployFieldErrors, deployOf, NO_DEPLOY, ReadyAtStartFields, type ReadyChoice } from "./ready-at-start-fields";

type Option = { id: string; name: string };

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function ReserveForm({ pools, projects }: { pools: Option[]; projects: Option[] }) {
  const router = useRouter();
  const [error, setError] = useState<string | undefined>();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const [ready, setReady] = useState<ReadyChoice>(NO_DEPLOY);
  return (
    <ApiForm
      formError={error}
      className="grid gap-4 sm:grid-cols-2"
      onValues={async (v) => {
        setBusy(true);
        setError(undefined);
        setFieldErrors({});
        const deploy = deployOf(ready);
        try {
          const r = await callApi<{ id: string }>("/api/v1/reservations", "POST", {
            poolId: v.poolId || undefined,
            projectId: v.projectId || undefined,
            count: Number(v.count || 1),
            title: v.title,
            startsAt: toIso(v.startsAt ?? "") ?? v.startsAt,
            endsAt: toIso(v.endsAt ?? "") ?? v.endsAt,
            ...(deploy ? { deploy } : {}),
          });
          router.push(`/reservations/${r.id}`);
        } catch (e) {
          setError((e as Error).message);
          if (e instanceof ApiError) setFieldErrors(e.failure.fieldErrors);
        } finally {
          setBusy(false);
        }
      }}
    >
      <SelectField label="Pool" name="poolId" error={fieldErrors.poolId} required>
        {pools.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </SelectField>
      {projects.length > 1 ? (
        <SelectField label="Project to charge" name="projectId" error={fieldErrors.projectId}>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
      ) : null}
      <Field label="Hosts" name="count" type="number" min={1} defaultValue={1} error={fieldErrors.count} />
      <Field label="Title (optional)" name="title" error={fieldErrors.title} />
      <Field label="Start" name="startsAt" type="datetime-local" error={fieldErrors.startsAt} required />
      <Field label="End" name="endsAt" type="datetime-local" error={fieldErrors.endsAt} required />
      <div className="sm:col-span-2">
        <ReadyAtStartFields value={ready} onChange={setReady} fieldErrors={deployFieldErrors(fieldErrors)} />
      </div>
      <div className="sm:col-span-2">
        <Button type="submit" disabled={busy}>
          Reserve
        </Button>
      </div>
    </ApiForm>
  );
}
