"use client";
// Create a project, or change its name, description and quotas (blank = no limit).
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { DeleteButton } from "../ui/delete-button";
import { Dialog, DialogActions } from "../ui/dialog";
import { Field, TextAreaField } from "../ui/field";
import { numberOrNull } from "../ui/parse";
import { useApi } from "../ui/use-api";
import type { ProjectQuotas } from "./project-usage";

export type ProjectEditable = ProjectQuotas & { id: string; name: string; description: string };

type ProjectBody = { name: string; description: string; maxHosts: number | null; maxLeaseHours: number | null; maxNodeHoursPerMonth: number | null };

const FIELDS = ["name", "description", "maxHosts", "maxLeaseHours", "maxNodeHoursPerMonth"];

export function ProjectForm({ project, onDone }: { project?: ProjectEditable; onDone?: (id: string) => void }) {
  const router = useRouter();
  const api = useApi<ProjectBody, { id: string }>(project ? `/api/v1/projects/${project.id}` : "/api/v1/projects", project ? "PATCH" : "POST", { fields: FIELDS });
  const quota = (v: number | null | undefined) => (v === null || v === undefined ? "" : String(v));
  return (
    <ApiForm
      formError={api.formError}
      onValues={(v) =>
        api.mutate(
          {
            name: v.name ?? "",
            description: v.description ?? "",
            maxHosts: numberOrNull(v.maxHosts),
            maxLeaseHours: numberOrNull(v.maxLeaseHours),
            maxNodeHoursPerMonth: numberOrNull(v.maxNodeHoursPerMonth),
          },
          {
            onSuccess: (saved) => {
              router.refresh();
              onDone?.(saved.id);
            },
          },
        )
      }
    >
      {project && api.isSuccess ? <Alert tone="success">Saved.</Alert> : null}
      <Field name="name" label="Name" defaultValue={project?.name} placeholder="genomics" required data-autofocus error={api.errorsOf("name")} />
      <TextAreaField mono={false} name="description" label="Description" rows={2} defaultValue={project?.description} error={api.errorsOf("description")} />
      <fieldset className="grid gap-4 sm:grid-cols-3">
        <legend className="mb-2 text-sm font-medium text-stone-800">Quotas — leave blank for no limit</legend>
        <Field name="maxHosts" label="Hosts at once" type="number" min={0} defaultValue={quota(project?.maxHosts)} error={api.errorsOf("maxHosts")} />
        <Field name="maxLeaseHours" label="Longest lease (h)" type="number" min={0} defaultValue={quota(project?.maxLeaseHours)} error={api.errorsOf("maxLeaseHours")} />
        <Field name="maxNodeHoursPerMonth" label="Node-hours / month" type="number" min={0} defaultValue={quota(project?.maxNodeHoursPerMonth)} error={api.errorsOf("maxNodeHoursPerMonth")} />
      </fieldset>
      <DialogActions>
        <Button type="submit" disabled={api.isPending}>
          {project ? "Save" : "Create project"}
        </Button>
      </DialogActions>
    </ApiForm>
  );
}

export function NewProjectButton() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>New project</Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="New project" description="Leases are charged to projects; quotas bound what a project's members may hold." size="lg">
        <ProjectForm
          onDone={(id) => {
            setOpen(false);
            router.push(`/admin/projects/${id}`);
          }}
        />
      </Dialog>
    </>
  );
}

export function DeleteProjectButton({ project }: { project: { id: string; name: string } }) {
  return (
    <DeleteButton
      label="Delete project…"
      title={`Delete project ${project.name}?`}
      explanation="Its memberships go with it. A project with leases on record cannot be deleted: they are kept for accounting."
      url={`/api/v1/projects/${project.id}`}
      redirectTo="/admin/projects"
    />
  );
}
