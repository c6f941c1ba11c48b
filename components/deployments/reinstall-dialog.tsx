"use client";
// "Reinstall": what to put on the machine — one of the images the holder may use (a version
// of it), an unattended install with templates, or just wiping the disks — with the vars,
// the disk and whether to be mailed at the end. Kiln refuses here, with the reason, anything
// that would fail before the machine is touched.
import { useEffect, useState, type FormEvent } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, FormActions } from "../ui/dialog";
import { Field, SelectField, TextAreaField } from "../ui/field";
import { ApiError, callApi, errorsOf } from "../ui/use-api";
import type { ImageOption, RunView, TemplateOption } from "./types";

type Action = "deploy_image" | "install" | "capture_disk" | "wipe_disk";
type VersionOption = { version: number; state: string; sizeBytes: number; createdAt: string };

export function ReinstallDialog({
  open,
  onClose,
  hostId,
  images,
  captureTargets,
  templates,
  defaults,
  onStarted,
}: {
  open: boolean;
  onClose: () => void;
  hostId: string;
  images: ImageOption[];
  captureTargets: ImageOption[];
  templates: TemplateOption[];
  defaults: { systemTemplateId: string | null; unattendedTemplateId: string | null; vars: Record<string, unknown> };
  onStarted: (run: RunView) => void;
}) {
  const [action, setAction] = useState<Action>(images.length ? "deploy_image" : "install");
  const [imageId, setImageId] = useState(images[0]?.id ?? "");
  const [captureId, setCaptureId] = useState(captureTargets[0]?.id ?? "");
  const [versions, setVersions] = useState<VersionOption[] | null>(null);
  const [version, setVersion] = useState("latest");
  const [systemId, setSystemId] = useState(defaults.systemTemplateId ?? "");
  const [unattendedId, setUnattendedId] = useState(defaults.unattendedTemplateId ?? "");
  const [disk, setDisk] = useState("");
  const [wipeFirst, setWipeFirst] = useState(false);
  const [wipeMode, setWipeMode] = useState<"quick" | "full">("quick");
  const [notify, setNotify] = useState(false);
  const [varsText, setVarsText] = useState(JSON.stringify(defaults.vars, null, 2));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ message: string; fieldErrors: Record<string, string[]> } | null>(null);

  useEffect(() => {
    if (!open || action !== "deploy_image" || !imageId) return;
    let live = true;
    setVersions(null);
    setVersion("latest");
    callApi<{ data: VersionOption[] }>(`/api/v1/images/${imageId}/versions`, "GET")
      .then((r) => live && setVersions(r.data.filter((v) => v.state === "ready")))
      .catch(() => live && setVersions([]));
    return () => {
      live = false;
    };
  }, [open, action, imageId]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    let vars: unknown;
    try {
      vars = JSON.parse(varsText || "{}");
    } catch {
      setFailure({ message: "Vars must be a JSON object, like {\"disk\": \"nvme0n1\"}.", fieldErrors: { vars: ["Vars must be a JSON object."] } });
      return;
    }
    const body: Record<string, unknown> = { action, vars, notify, ...(disk.trim() ? { disk: disk.trim() } : {}) };
    if (action === "deploy_image") Object.assign(body, { imageId, imageVersion: version === "latest" ? "latest" : Number(version), wipeFirst });
    if (action === "install") Object.assign(body, { systemTemplateId: systemId || undefined, unattendedTemplateId: unattendedId || null });
    if (action === "capture_disk") Object.assign(body, { imageId: captureId });
    if (action === "wipe_disk") Object.assign(body, { wipeMode });
    setBusy(true);
    setFailure(null);
    try {
      onStarted(await callApi<RunView>(`/api/v1/hosts/${hostId}/deployments`, "POST", body));
    } catch (err) {
      setFailure(err instanceof ApiError ? err.failure : { message: (err as Error).message, fieldErrors: {} });
    } finally {
      setBusy(false);
    }
  }

  const fe = failure?.fieldErrors ?? {};
  const system = templates.filter((t) => t.kind === "system");
  const unattended = templates.filter((t) => t.kind === "unattended");

  return (
    <Dialog open={open} onClose={onClose} title="Reinstall" size="lg" description="Kiln checks your choice, powers the machine on from the network and follows every step here.">
      <form onSubmit={submit} className="space-y-4">
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium text-stone-800">What to do</legend>
          {(
            [
              ["deploy_image", "Deploy an image", "Write one of your images to the disk."],
              ["install", "Install with templates", "An unattended OS install (preseed, kickstart, cloud-init)."],
              ["capture_disk", "Capture the disk", "Save the disk as the next version of one of your images."],
              ["wipe_disk", "Wipe the disks", "Erase the disks and switch the machine off."],
            ] as const
          ).map(([value, label, hint]) => (
            <label key={value} className="flex items-start gap-2 text-sm">
              <input type="radio" name="action" value={value} checked={action === value} onChange={() => setAction(value)} className="mt-1" />
              <span>
                <span className="font-medium">{label}</span> <span className="text-stone-500">— {hint}</span>
              </span>
            </label>
          ))}
        </fieldset>

        {action === "deploy_image" ? (
          images.length === 0 ? (
            <Alert tone="info">You have no images yet; upload one on the Images page.</Alert>
          ) : (
            <div className="grid gap-3 sm:grid-cols-2">
              <SelectField label="Image" value={imageId} onChange={(e) => setImageId(e.target.value)} error={errorsOf(fe, "imageId")}>
                {images.map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.name}
                  </option>
                ))}
              </SelectField>
              <SelectField label="Version" value={version} onChange={(e) => setVersion(e.target.value)} error={errorsOf(fe, "imageVersion")}>
                <option value="latest">latest ready</option>
                {(versions ?? []).map((v) => (
                  <option key={v.version} value={String(v.version)}>
                    version {v.version}
                  </option>
                ))}
              </SelectField>
              <label className="flex items-center gap-2 text-sm sm:col-span-2">
                <input type="checkbox" checked={wipeFirst} onChange={(e) => setWipeFirst(e.target.checked)} />
                Erase the whole disk first (not only what the image covers)
              </label>
            </div>
          )
        ) : null}

        {action === "install" ? (
          <div className="grid gap-3 sm:grid-cols-2">
            <SelectField label="System template (iPXE)" value={systemId} onChange={(e) => setSystemId(e.target.value)} error={errorsOf(fe, "systemTemplateId")}>
              <option value="">— choose —</option>
              {system.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </SelectField>
            <SelectField label="Unattended template" value={unattendedId} onChange={(e) => setUnattendedId(e.target.value)} error={errorsOf(fe, "unattendedTemplateId")}>
              <option value="">— none —</option>
              {unattended.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </SelectField>
          </div>
        ) : null}

        {action === "capture_disk" ? (
          captureTargets.length === 0 ? (
            <Alert tone="info">Create an image on the Images page first; the capture becomes its next version.</Alert>
          ) : (
            <SelectField label="Into image" value={captureId} onChange={(e) => setCaptureId(e.target.value)} error={errorsOf(fe, "imageId")}>
              {captureTargets.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.name}
                </option>
              ))}
            </SelectField>
          )
        ) : null}

        {action === "wipe_disk" ? (
          <SelectField label="How" value={wipeMode} onChange={(e) => setWipeMode(e.target.value as "quick" | "full")} error={errorsOf(fe, "wipeMode")}>
            <option value="quick">Quick — signatures, partition tables and both ends of each disk (seconds)</option>
            <option value="full">Full — every byte zeroed (as long as writing the whole disk takes)</option>
          </SelectField>
        ) : null}

        <Field label="Disk (optional)" value={disk} onChange={(e) => setDisk(e.target.value)} placeholder="sda, nvme0n1 — else vars.disk, else the first disk" error={errorsOf(fe, "disk")} />
        <TextAreaField label="Vars (JSON object)" value={varsText} onChange={(e) => setVarsText(e.target.value)} rows={3} error={errorsOf(fe, "vars")} />
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={notify} onChange={(e) => setNotify(e.target.checked)} />
          Mail me when it finishes
        </label>
        {failure && !Object.values(fe).flat().includes(failure.message) ? <Alert tone="error">{failure.message}</Alert> : null}
        <FormActions onCancel={onClose} cancelLabel="Close" busy={busy} busyLabel="Starting…" label="Start" disabled={(action === "deploy_image" && !imageId) || (action === "capture_disk" && !captureId)} />
      </form>
    </Dialog>
  );
}
