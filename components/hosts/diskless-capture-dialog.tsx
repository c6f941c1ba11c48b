"use client";
// "Capture as a new image version…" for a live diskless root (docs/diskless.md): POST
// …/diskless/capture. The capture runs within the request (flatten, hash, store), so on success
// the version is already ready and the dialog links to it; refusals sit under their fields.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import type { DisklessCapture } from "@/lib/validation/diskless";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, DialogActions, FormActions } from "../ui/dialog";
import { SelectField, TextAreaField } from "../ui/field";
import { useApi } from "../ui/use-api";

export type CaptureTarget = { id: string; name: string; latestVersion: number | null };
type Captured = { imageId: string; version: number; sizeBytes: number; sha256: string };

export function DisklessCaptureButton({ hostId, targets, disabled }: { hostId: string; targets: CaptureTarget[]; disabled?: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)} disabled={disabled} data-testid="diskless-capture">
        Capture as a new image version…
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Capture as a new image version" description="The root as the machine has written it (its image version plus its changes) becomes the next version of one of your images. Take it with the machine off or idle: what it has not flushed to the root is not captured.">
        <CaptureForm hostId={hostId} targets={targets} onClose={() => setOpen(false)} />
      </Dialog>
    </>
  );
}

function CaptureForm({ hostId, targets, onClose }: { hostId: string; targets: CaptureTarget[]; onClose: () => void }) {
  const router = useRouter();
  const [imageId, setImageId] = useState(targets[0]?.id ?? "");
  const [notes, setNotes] = useState("");
  const capture = useApi<DisklessCapture, Captured>(`/api/v1/hosts/${hostId}/diskless/capture`, "POST", { fields: ["imageId", "notes"] });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    capture.mutate({ imageId, ...(notes.trim() ? { notes } : {}) }, { onSuccess: () => router.refresh() });
  };
  const done = capture.data;
  if (done) {
    const name = targets.find((t) => t.id === done.imageId)?.name ?? "the image";
    return (
      <div className="space-y-4" data-testid="diskless-capture-done">
        <Alert tone="success">
          Captured: version {done.version} of {name} is ready.{" "}
          <Link href={`/images/${done.imageId}/versions/${done.version}`} className="font-medium underline">
            Open version {done.version}
          </Link>
        </Alert>
        <DialogActions>
          <Button type="button" onClick={onClose}>
            Close
          </Button>
        </DialogActions>
      </div>
    );
  }
  if (targets.length === 0) {
    return (
      <div className="space-y-4">
        <Alert tone="info">Create an image on the Images page first; the capture becomes its next version.</Alert>
        <DialogActions>
          <Button type="button" variant="secondary" onClick={onClose}>
            Close
          </Button>
        </DialogActions>
      </div>
    );
  }
  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      {capture.formError ? <Alert tone="error">{capture.formError}</Alert> : null}
      <SelectField label="Into image" value={imageId} onChange={(e) => setImageId(e.target.value)} error={capture.errorsOf("imageId")}>
        {targets.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name} (next: version {(t.latestVersion ?? 0) + 1})
          </option>
        ))}
      </SelectField>
      <TextAreaField label="Note (optional)" mono={false} rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} error={capture.errorsOf("notes")} hint="Shown with the version. Without one, Kiln notes the host and the base version." />
      <FormActions onCancel={onClose} label="Capture" busy={capture.isPending} busyLabel="Capturing… (flattening and hashing the root)" disabled={!imageId} />
    </form>
  );
}
