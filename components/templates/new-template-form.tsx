"use client";
import { useState } from "react";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { useApi } from "../ui/use-api";

const FORMATS: Record<"system" | "unattended", string[]> = { system: ["ipxe"], unattended: ["preseed", "kickstart", "cloud-init", "script"] };

export function NewTemplateForm({ copyFrom, projects }: { copyFrom: { name: string; kind: "system" | "unattended"; format: string; source: string } | null; projects: { id: string; name: string }[] }) {
  const api = useApi<Record<string, unknown>, { id: string }>("/api/v1/templates");
  const [kind, setKind] = useState<"system" | "unattended">(copyFrom?.kind ?? "system");
  const [visibility, setVisibility] = useState("private");
  return (
    <ApiForm
      formError={api.formError}
      onValues={(v) =>
        api.mutate(
          {
            name: v.name,
            description: v.description,
            kind,
            format: v.format,
            visibility,
            projectId: visibility === "project" ? v.projectId || null : null,
            source: copyFrom?.source ?? (kind === "system" ? "#!ipxe\necho Hello from {{ host.name }}\nexit\n" : "#cloud-config\nhostname: {{ host.name|tojson }}\n"),
            message: copyFrom ? `copied from ${copyFrom.name}` : "created",
          },
          { onSuccess: (t) => window.location.assign(`/templates/${t.id}`) },
        )
      }
    >
      <Field name="name" label="Name" defaultValue={copyFrom ? `${copyFrom.name} (my copy)` : ""} error={api.fieldErrors.name} />
      <Field name="description" label="Description" error={api.fieldErrors.description} />
      <div className="grid gap-4 sm:grid-cols-2">
        <label className="block text-sm font-medium text-stone-800">
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as "system" | "unattended")} disabled={Boolean(copyFrom)} className="mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-2 text-sm">
            <option value="system">System (iPXE boot script)</option>
            <option value="unattended">Unattended install</option>
          </select>
        </label>
        <label className="block text-sm font-medium text-stone-800">
          Format
          <select name="format" defaultValue={copyFrom?.format} key={kind} className="mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-2 text-sm">
            {FORMATS[kind].map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </label>
        <label className="block text-sm font-medium text-stone-800">
          Who can use it
          <select value={visibility} onChange={(e) => setVisibility(e.target.value)} className="mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-2 text-sm">
            <option value="private">Only me</option>
            <option value="project">A project</option>
            <option value="public">Everyone (administrators)</option>
          </select>
        </label>
        {visibility === "project" ? (
          <label className="block text-sm font-medium text-stone-800">
            Project
            <select name="projectId" className="mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-2 text-sm">
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      {api.fieldErrors.format || api.fieldErrors.projectId || api.fieldErrors.visibility ? (
        <p role="alert" className="text-sm text-red-700">
          {[...(api.fieldErrors.format ?? []), ...(api.fieldErrors.projectId ?? []), ...(api.fieldErrors.visibility ?? [])].join(" ")}
        </p>
      ) : null}
      <Button type="submit" disabled={api.isPending}>
        {api.isPending ? "Creating…" : "Create template"}
      </Button>
    </ApiForm>
  );
}
