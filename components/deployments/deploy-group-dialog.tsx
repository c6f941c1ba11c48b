"use client";
// "Deploy to hosts…" on a lease: one image, install or wipe for all or some of its held hosts,
// as one deployment group (POST /api/v1/leases/:id/deploy) → review → start → the group's page.
// The same choices as a host's Reinstall dialog (images and their ready versions, cloud-init on
// first boot, system and unattended templates), without what belongs to one host (its boot
// interface, capturing its disk, waiting for a manual reboot).
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, DialogActions, FormActions } from "../ui/dialog";
import { Field, SelectField, TextAreaField } from "../ui/field";
import { ApiError, callApi, errorsOf } from "../ui/use-api";
import { ActionChoice, ImageChoiceFields, TemplateChoiceFields } from "./deploy-choice-fields";
import type { ImageOption, TemplateOption } from "./types";

type Action = "deploy_image" | "install" | "wipe_disk";
type Failure = { message: string; fieldErrors: Record<string, string[]> };
type ImageRow = ImageOption & { canEdit: boolean };
type GroupStarted = { id: string; refused?: { name: string; reason: string }[] };

const VARS_HINT = 'Vars must be a JSON object, like {"disk": "nvme0n1"}.';

export function DeployGroupDialog({ open, onClose, leaseId, hosts }: { open: boolean; onClose: () => void; leaseId: string; hosts: { id: string; name: string }[] }) {
  const router = useRouter();
  const images = useQuery({
    queryKey: ["images", "deployable"],
    queryFn: () => callApi<{ data: ImageRow[] }>("/api/v1/images?per_page=100", "GET"),
    enabled: open,
    // The caller's own images first, then the shared ones; only those with a ready version.
    select: (r) => r.data.filter((i) => i.latestVersion !== null).sort((a, b) => Number(b.canEdit) - Number(a.canEdit)),
  });
  const templates = useQuery({ queryKey: ["templates"], queryFn: () => callApi<{ data: TemplateOption[] }>("/api/v1/templates", "GET"), enabled: open, select: (r) => r.data });
  const [step, setStep] = useState<"choose" | "review">("choose");
  const [chosen, setChosen] = useState<string[]>(hosts.map((h) => h.id));
  const [action, setAction] = useState<Action>("deploy_image");
  const [imageId, setImageId] = useState("");
  const [version, setVersion] = useState("latest");
  const [cloudInitId, setCloudInitId] = useState("");
  const [systemId, setSystemId] = useState("");
  const [unattendedId, setUnattendedId] = useState("");
  const [wipeFirst, setWipeFirst] = useState(false);
  const [wipeMode, setWipeMode] = useState<"quick" | "full">("quick");
  const [disk, setDisk] = useState("");
  const [varsText, setVarsText] = useState("{}");
  const [maxAttempts, setMaxAttempts] = useState(2);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);

  const imageList = images.data ?? [];
  const effectiveImageId = imageId || imageList[0]?.id || "";
  const versions = useQuery({
    queryKey: ["image-versions", effectiveImageId],
    queryFn: () => callApi<{ data: { version: number; state: string }[] }>(`/api/v1/images/${effectiveImageId}/versions`, "GET"),
    enabled: open && action === "deploy_image" && Boolean(effectiveImageId),
    select: (r) => r.data.filter((v) => v.state === "ready"),
  });
  useEffect(() => setVersion("latest"), [effectiveImageId]);

  const all = templates.data ?? [];
  const system = all.filter((t) => t.kind === "system");
  const unattended = all.filter((t) => t.kind === "unattended");
  const cloudInit = unattended.filter((t) => t.format === "cloud-init");
  const nameOf = (list: { id: string; name: string }[], id: string) => list.find((x) => x.id === id)?.name ?? "";
  const chosenNames = hosts.filter((h) => chosen.includes(h.id)).map((h) => h.name);

  const parsedVars = (): Record<string, unknown> | null => {
    try {
      const v = JSON.parse(varsText || "{}");
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {}
    return null;
  };

  const what =
    action === "deploy_image"
      ? `image “${nameOf(imageList, effectiveImageId)}” ${version === "latest" ? "(its latest ready version, the same on every host)" : `version ${version}`}${cloudInitId ? `, set up on its first boot by cloud-init with “${nameOf(cloudInit, cloudInitId)}”` : ""}`
      : action === "install"
        ? [nameOf(system, systemId), nameOf(unattended, unattendedId)].filter(Boolean).map((n) => `“${n}”`).join(" with ")
        : `a ${wipeMode} wipe`;

  function review(e: FormEvent) {
    e.preventDefault();
    if (chosen.length === 0) return setFailure({ message: "Choose at least one host.", fieldErrors: { hostIds: ["Choose at least one host."] } });
    if (!parsedVars()) return setFailure({ message: VARS_HINT, fieldErrors: { vars: [VARS_HINT] } });
    if (action === "install" && !systemId) return setFailure({ message: "Choose the system (boot) template to install with.", fieldErrors: { systemTemplateId: ["Choose the system (boot) template to install with."] } });
    setFailure(null);
    setStep("review");
  }

  async function confirm() {
    setBusy(true);
    setFailure(null);
    const spec: Record<string, unknown> = { action, vars: parsedVars() ?? {}, ...(disk.trim() ? { disk: disk.trim() } : {}) };
    if (action === "deploy_image") Object.assign(spec, { imageId: effectiveImageId, imageVersion: version === "latest" ? "latest" : Number(version), wipeFirst, ...(cloudInitId ? { unattendedTemplateId: cloudInitId } : {}) });
    if (action === "install") Object.assign(spec, { systemTemplateId: systemId, unattendedTemplateId: unattendedId || null });
    if (action === "wipe_disk") Object.assign(spec, { wipeMode });
    try {
      const group = await callApi<GroupStarted>(`/api/v1/leases/${leaseId}/deploy`, "POST", { spec, hostIds: chosen, maxAttempts });
      router.push(`/deployments/groups/${group.id}`);
    } catch (err) {
      const f = err instanceof ApiError ? err.failure : { message: (err as Error).message, fieldErrors: {} };
      // The spec's fields come back as spec.imageId…: shown beside the same fields here.
      const fieldErrors = Object.fromEntries(Object.entries(f.fieldErrors).map(([k, v]) => [k.replace(/^spec\./, ""), v]));
      setFailure({ message: f.message, fieldErrors });
      setStep("choose");
      setBusy(false);
    }
  }

  const fe = failure?.fieldErrors ?? {};
  const reviewing = step === "review";
  const n = chosen.length;
  return (
    <Dialog
      open={open}
      onClose={onClose}
      size="lg"
      title={reviewing ? "Deploy to hosts — review" : "Deploy to hosts"}
      description={reviewing ? "Nothing has started yet; this is what will happen:" : "One image or install for several machines of this lease; each gets its own run, and the group's page follows them all."}
    >
      {reviewing ? (
        <div className="space-y-4">
          <ul className="list-disc space-y-1.5 pl-5 text-sm text-stone-800" data-testid="deploy-group-review">
            <li>
              {chosenNames.join(", ")} {n === 1 ? "is" : "are"} power-cycled now, whatever {n === 1 ? "it is" : "they are"} running, and boot from the network (a machine Kiln cannot restart
              waits for its next network boot).
            </li>
            <li>{action === "wipe_disk" ? `Their disks are erased (${wipeMode}) and the machines switched off.` : `Each one's disk is erased and gets ${what}.`}</li>
            <li>
              A machine whose run fails is retried on its own, up to {maxAttempts} run{maxAttempts === 1 ? "" : "s"} in all; the others go on. A machine busy with another run is left out, and
              the group&apos;s page says so.
            </li>
          </ul>
          {failure ? <Alert tone="error">{failure.message}</Alert> : null}
          <DialogActions>
            <Button type="button" variant="secondary" onClick={() => setStep("choose")} disabled={busy}>
              Back
            </Button>
            <Button type="button" variant="danger" onClick={confirm} disabled={busy}>
              {busy ? "Starting…" : `Erase and deploy to ${n} host${n === 1 ? "" : "s"}`}
            </Button>
          </DialogActions>
        </div>
      ) : (
        <form onSubmit={review} className="space-y-4">
          <fieldset className="space-y-1.5">
            <legend className="text-sm font-medium text-stone-800">Hosts</legend>
            {hosts.map((h) => (
              <label key={h.id} className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={chosen.includes(h.id)} onChange={(e) => setChosen(e.target.checked ? [...chosen, h.id] : chosen.filter((id) => id !== h.id))} />
                <span className="font-mono">{h.name}</span>
              </label>
            ))}
            {errorsOf(fe, "hostIds") ? <p className="text-xs text-red-700">{errorsOf(fe, "hostIds")![0]}</p> : null}
          </fieldset>
          <ActionChoice
            name="group-action"
            options={[
              ["deploy_image", "Deploy an image", "Write one of your images to each disk."],
              ["install", "Install with templates", "An unattended OS install on each machine."],
              ["wipe_disk", "Wipe the disks", "Erase the disks and switch the machines off."],
            ]}
            action={action}
            onAction={setAction}
          />

          {action === "deploy_image" ? (
            images.isPending ? (
              <p className="text-sm text-stone-500">Loading images…</p>
            ) : imageList.length === 0 ? (
              <Alert tone="info">You have no images with a ready version; upload one on the Images page.</Alert>
            ) : (
              <ImageChoiceFields
                fe={fe}
                images={imageList}
                imageId={effectiveImageId}
                onImageId={setImageId}
                versions={versions.data ?? []}
                version={version}
                onVersion={setVersion}
                cloudInit={cloudInit}
                cloudInitId={cloudInitId}
                onCloudInitId={setCloudInitId}
                wipeFirst={wipeFirst}
                onWipeFirst={setWipeFirst}
              />
            )
          ) : null}

          {action === "install" ? (
            <div className="grid gap-3 sm:grid-cols-2">
              <TemplateChoiceFields fe={fe} system={system} systemId={systemId} onSystemId={setSystemId} unattended={unattended} unattendedId={unattendedId} onUnattendedId={setUnattendedId} />
            </div>
          ) : null}

          {action === "wipe_disk" ? (
            <SelectField label="How" value={wipeMode} onChange={(e) => setWipeMode(e.target.value as "quick" | "full")} error={errorsOf(fe, "wipeMode")}>
              <option value="quick">Quick — signatures, partition tables and both ends of each disk (seconds)</option>
              <option value="full">Full — every byte zeroed (as long as writing the whole disk takes)</option>
            </SelectField>
          ) : null}

          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Disk (optional)" value={disk} onChange={(e) => setDisk(e.target.value)} placeholder="sda, nvme0n1 — else vars.disk, else the first disk" error={errorsOf(fe, "disk")} />
            <SelectField label="Runs per host" value={String(maxAttempts)} onChange={(e) => setMaxAttempts(Number(e.target.value))} error={errorsOf(fe, "maxAttempts")} hint="A failed host is retried alone until it has had this many runs.">
              {[1, 2, 3, 4, 5].map((k) => (
                <option key={k} value={k}>
                  {k === 1 ? "1 (no retry)" : `${k} (${k - 1} retr${k === 2 ? "y" : "ies"})`}
                </option>
              ))}
            </SelectField>
          </div>
          <TextAreaField label="Vars (JSON object; the same for every host)" value={varsText} onChange={(e) => setVarsText(e.target.value)} rows={2} error={errorsOf(fe, "vars")} />
          {failure && !Object.values(fe).flat().includes(failure.message) ? <Alert tone="error">{failure.message}</Alert> : null}
          <FormActions onCancel={onClose} cancelLabel="Close" busy={false} label="Review…" disabled={n === 0 || (action === "deploy_image" && !effectiveImageId)} />
        </form>
      )}
    </Dialog>
  );
}
