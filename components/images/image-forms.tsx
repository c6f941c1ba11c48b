"use client";
// Create, edit and share an image. Each calls the REST API; refusals are shown as
// the API words them, under the field they are about.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ApiForm } from "../ui/api-form";
import { Button } from "../ui/button";
import { Dialog, FormActions } from "../ui/dialog";
import { Field, SelectField, TextAreaField } from "../ui/field";
import { useApi } from "../ui/use-api";
import type { ImageView, ImageVisibility, ProjectChoice } from "./types";

type ImageBody = { name?: string; description?: string; visibility?: ImageVisibility; projectId?: string | null };

export const VISIBILITY_LABEL: Record<ImageVisibility, string> = {
  private: "Only me",
  project: "Members of a project",
  public: "Everyone in the lab",
};

/** Who may see and deploy the image; the project choice appears only for project sharing. */
function VisibilityFields({
  visibility,
  onVisibility,
  projectId,
  projects,
  canPublish,
  errorsOf,
}: {
  visibility: ImageVisibility;
  onVisibility: (v: ImageVisibility) => void;
  projectId: string | null;
  projects: ProjectChoice[];
  canPublish: boolean;
  errorsOf: (f: string) => string[] | undefined;
}) {
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      <SelectField
        name="visibility"
        label="Who can use it"
        value={visibility}
        onChange={(e) => onVisibility(e.target.value as ImageVisibility)}
        hint={canPublish ? undefined : "Administrators publish images to everyone."}
        error={errorsOf("visibility")}
      >
        {(Object.keys(VISIBILITY_LABEL) as ImageVisibility[]).map((v) => (
          <option key={v} value={v} disabled={(v === "project" && projects.length === 0) || (v === "public" && !canPublish && visibility !== "public")}>
            {VISIBILITY_LABEL[v]}
          </option>
        ))}
      </SelectField>
      {visibility === "project" ? (
        <SelectField name="projectId" label="Project" defaultValue={projectId ?? projects[0]?.id} error={errorsOf("projectId")}>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
      ) : null}
    </div>
  );
}

export function NewImageButton({ projects, canPublish }: { projects: ProjectChoice[]; canPublish: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>New image</Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="New image" description="An image holds numbered versions of one disk image. Upload the first version on its page.">
        <NewImageForm projects={projects} canPublish={canPublish} onCancel={() => setOpen(false)} />
      </Dialog>
    </>
  );
}

function NewImageForm({ projects, canPublish, onCancel }: { projects: ProjectChoice[]; canPublish: boolean; onCancel: () => void }) {
  const router = useRouter();
  const api = useApi<ImageBody, { id: string }>("/api/v1/images", "POST", { fields: ["name", "description", "visibility", "projectId"] });
  const [visibility, setVisibility] = useState<ImageVisibility>("private");
  return (
    <ApiForm
      formError={api.formError}
      onValues={(v) =>
        api.mutate(
          { name: v.name, description: v.description, visibility, projectId: visibility === "project" ? v.projectId || null : null },
          { onSuccess: (image) => router.push(`/images/${image.id}`) },
        )
      }
    >
      <Field name="name" label="Name" placeholder="debian-12-hpc" required data-autofocus error={api.errorsOf("name")} />
      <TextAreaField name="description" label="Description" mono={false} rows={3} error={api.errorsOf("description")} />
      <VisibilityFields visibility={visibility} onVisibility={setVisibility} projectId={null} projects={projects} canPublish={canPublish} errorsOf={api.errorsOf} />
      <FormActions onCancel={onCancel} busy={api.isPending} busyLabel="Creating…" label="Create image" />
    </ApiForm>
  );
}

type DialogProps = { image: ImageView; open: boolean; onClose: () => void; onDone: (message: string) => void };

export function EditImageDialog({ image, open, onClose, onDone }: DialogProps) {
  const api = useApi<ImageBody, ImageView>(`/api/v1/images/${image.id}`, "PATCH", { fields: ["name", "description"] });
  return (
    <Dialog open={open} onClose={onClose} title="Edit image">
      <ApiForm
        formError={api.formError}
        onValues={(v) =>
          api.mutate(
            { name: v.name, description: v.description },
            {
              onSuccess: () => {
                onClose();
                onDone("Saved.");
              },
            },
          )
        }
      >
        <Field name="name" label="Name" defaultValue={image.name} required data-autofocus error={api.errorsOf("name")} />
        <TextAreaField name="description" label="Description" mono={false} rows={4} defaultValue={image.description} error={api.errorsOf("description")} />
        <FormActions onCancel={onClose} busy={api.isPending} busyLabel="Saving…" label="Save" />
      </ApiForm>
    </Dialog>
  );
}

export function ShareImageDialog({ image, projects, canPublish, open, onClose, onDone }: DialogProps & { projects: ProjectChoice[]; canPublish: boolean }) {
  return (
    <Dialog open={open} onClose={onClose} title="Share image" description="Everyone who can see the image can deploy its versions.">
      <ShareImageForm image={image} projects={projects} canPublish={canPublish} onClose={onClose} onDone={onDone} />
    </Dialog>
  );
}

function ShareImageForm({ image, projects, canPublish, onClose, onDone }: Omit<DialogProps, "open"> & { projects: ProjectChoice[]; canPublish: boolean }) {
  const api = useApi<ImageBody, ImageView>(`/api/v1/images/${image.id}`, "PATCH", { fields: ["visibility", "projectId"] });
  const [visibility, setVisibility] = useState<ImageVisibility>(image.visibility);
  // The image's current project stays choosable even if the owner has since left it.
  const choices = image.projectId && !projects.some((p) => p.id === image.projectId) ? [{ id: image.projectId, name: image.projectName ?? "(current project)" }, ...projects] : projects;
  return (
    <ApiForm
      formError={api.formError}
      onValues={(v) =>
        api.mutate(
          { visibility, projectId: visibility === "project" ? v.projectId || null : null },
          {
            onSuccess: () => {
              onClose();
              const project = visibility === "project" ? choices.find((p) => p.id === v.projectId)?.name : null;
              onDone(`Visible to: ${VISIBILITY_LABEL[visibility].toLowerCase()}${project ? ` (${project})` : ""}.`);
            },
          },
        )
      }
    >
      <VisibilityFields visibility={visibility} onVisibility={setVisibility} projectId={image.projectId} projects={choices} canPublish={canPublish} errorsOf={api.errorsOf} />
      <FormActions onCancel={onClose} busy={api.isPending} busyLabel="Saving…" label="Save" />
    </ApiForm>
  );
}
