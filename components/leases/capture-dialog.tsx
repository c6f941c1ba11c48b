"use client";
// "Capture disk to image…" on a lease (the staged end's offer, from the card or the reminder
// mail's link /?capture=<lease>): choose a held machine and an image you may add versions to,
// or name a new one; POST /api/v1/leases/:id/capture starts the capture_disk run. Opening the
// dialog captures nothing: the person confirms here, signed in.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Dialog, FormActions } from "../ui/dialog";
import { Field, SelectField } from "../ui/field";
import { formatDateTime } from "../ui/format";
import { callApi, useApi } from "../ui/use-api";
import { heldHosts, type LeaseView } from "./types";

type ImageOption = { id: string; name: string; canEdit: boolean };
const NEW = "__new__";

export function CaptureDiskDialog({ lease, open, onClose, onDone }: { lease: LeaseView; open: boolean; onClose: () => void; onDone: (message: string) => void }) {
  const hosts = heldHosts(lease);
  const images = useQuery({
    queryKey: ["images", "writable"],
    queryFn: () => callApi<{ data: ImageOption[] }>("/api/v1/images?per_page=500", "GET"),
    enabled: open,
  });
  const writable = (images.data?.data ?? []).filter((i) => i.canEdit);
  const [choice, setChoice] = useState<string>("");
  const target = choice || (writable[0]?.id ?? NEW);
  const api = useApi<{ hostId: string; imageId?: string; newImageName?: string }, { id: string }>(`/api/v1/leases/${lease.id}/capture`, "POST", { fields: ["hostId", "imageId", "newImageName"] });
  const inGrace = lease.end.stage === "grace" || lease.end.stage === "capturing";
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Capture disk to image"
      description={
        inGrace && lease.end.graceEndsAt
          ? `The lease has ended; until ${formatDateTime(lease.end.graceEndsAt)} you can capture the disk before it is wiped. The wipe waits for a capture under way.`
          : `Save a machine's disk as the next version of an image before the lease ends (${formatDateTime(lease.endsAt)}) and the disk is wiped.`
      }
    >
      {hosts.length === 0 ? (
        <Alert tone="info">This lease holds no machine any more: there is nothing left to capture.</Alert>
      ) : (
        <ApiForm
          formError={api.formError}
          onValues={(v) =>
            api.mutate(
              { hostId: v.hostId ?? hosts[0]!.id, ...(target === NEW ? { newImageName: v.newImageName ?? "" } : { imageId: target }) },
              {
                onSuccess: (run) => {
                  const name = hosts.find((h) => h.id === (v.hostId ?? hosts[0]!.id))?.name ?? "the machine";
                  onClose();
                  onDone(`Capturing the disk of ${name} (run ${run.id.slice(0, 8)}); follow it on the host's page.`);
                },
              },
            )
          }
        >
          <SelectField name="hostId" label="Machine" defaultValue={hosts[0]!.id} error={api.errorsOf("hostId")}>
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </SelectField>
          <SelectField name="imageChoice" label="Into image" value={target} onChange={(e) => setChoice(e.target.value)} error={api.errorsOf("imageId")} data-autofocus>
            {writable.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
            <option value={NEW}>A new image…</option>
          </SelectField>
          {target === NEW ? <Field name="newImageName" label="Name of the new image" defaultValue={`${hosts[0]!.name}-capture`} required error={api.errorsOf("newImageName")} hint="A private image of yours; the capture becomes its version 1." /> : null}
          {images.isError ? <p className="text-xs text-amber-700">Your images could not be listed ({images.error.message}); you can still capture into a new one.</p> : null}
          <FormActions onCancel={onClose} busy={api.isPending} busyLabel="Starting…" label="Capture the disk" />
        </ApiForm>
      )}
    </Dialog>
  );
}
