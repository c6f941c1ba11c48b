"use client";
// One file: one dialog's choose → review → confirm flow; the review describes and the confirm sends
// the same form state, which its steps share.
// The one way to reinstall a machine: choose (an image version, an unattended install with
// templates and vars, a capture of the disk, or a wipe) → review what will happen to the
// machine → confirm. Nothing starts before the confirm. The templates, vars and interface
// chosen here are saved as the host's boot settings, so the next reinstall (and the template
// editor's preview) starts from them. "Only at its next network boot" is the old mark: a run
// nobody powers, which the machine picks up when someone restarts it.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { describeReinstall } from "@/lib/deployments/consequences";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, DialogActions, FormActions } from "../ui/dialog";
import { Field, SelectField, TextAreaField } from "../ui/field";
import { ApiError, callApi, errorsOf } from "../ui/use-api";
import { ActionChoice, ImageChoiceFields, NamedOptions, TemplateChoiceFields } from "./deploy-choice-fields";
import type { ImageOption, ReinstallDefaults, DeploymentView, TemplateOption } from "./types";

type Action = "deploy_image" | "install" | "capture_disk" | "wipe_disk";
type VersionOption = { version: number; state: string; sizeBytes: number; createdAt: string };
type Failure = { message: string; fieldErrors: Record<string, string[]> };

const VARS_HINT = 'Vars must be a JSON object, like {"disk": "nvme0n1"}.';

export function ReinstallDialog({
  open,
  onClose,
  hostId,
  hostName,
  images,
  captureTargets,
  templates,
  defaults,
  macs,
  cannotRestart,
  onStarted,
}: {
  open: boolean;
  onClose: () => void;
  hostId: string;
  hostName: string;
  images: ImageOption[];
  captureTargets: ImageOption[];
  templates: TemplateOption[];
  defaults: ReinstallDefaults;
  macs: string[];
  /** Why Kiln cannot restart this machine, or null when it can (the review says so). */
  cannotRestart: string | null;
  onStarted: (run: DeploymentView) => void;
}) {
  const [step, setStep] = useState<"choose" | "review">("choose");
  const [action, setAction] = useState<Action>(images.length ? "deploy_image" : "install");
  const [imageId, setImageId] = useState(images[0]?.id ?? "");
  const [captureId, setCaptureId] = useState(captureTargets[0]?.id ?? "");
  const [versions, setVersions] = useState<VersionOption[] | null>(null);
  const [version, setVersion] = useState("latest");
  const [systemId, setSystemId] = useState(defaults.systemTemplateId ?? "");
  const [unattendedId, setUnattendedId] = useState(defaults.unattendedTemplateId ?? "");
  // deploy_image: the cloud-init template the written system applies on its first boot.
  const [cloudInitId, setCloudInitId] = useState("");
  const [waitForBoot, setWaitForBoot] = useState(false);
  const [disk, setDisk] = useState("");
  const [mac, setMac] = useState(defaults.preferredMac ?? "");
  const [wipeFirst, setWipeFirst] = useState(false);
  // Boot the image from a copy-on-write network root instead of writing the disk (docs/diskless.md).
  const [diskless, setDiskless] = useState(false);
  const isDiskless = action === "deploy_image" && diskless;
  const [wipeMode, setWipeMode] = useState<"quick" | "full">("quick");
  const [notify, setNotify] = useState(false);
  const [varsText, setVarsText] = useState(JSON.stringify(defaults.vars, null, 2));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  // Post-install configuration from git (docs/post-install.md): empty URL means none.
  const [piUrl, setPiUrl] = useState("");
  const [piRef, setPiRef] = useState("main");
  const [piPath, setPiPath] = useState("");
  const [piKind, setPiKind] = useState<"script" | "ansible-playbook">("script");
  const [piSkipDefault, setPiSkipDefault] = useState(false);

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

  const parsedVars = (): Record<string, unknown> | null => {
    try {
      const v = JSON.parse(varsText || "{}");
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {}
    return null;
  };
  const currentVars = parsedVars() ?? {};

  // The variables the chosen templates declare, as fields that write into the vars object.
  const declared = useMemo(() => {
    if (action !== "install") return [];
    const seen = new Map<string, { name: string; description?: string; default?: string }>();
    for (const t of templates.filter((t) => t.id === systemId || t.id === unattendedId)) for (const v of t.variables ?? []) if (!seen.has(v.name)) seen.set(v.name, v);
    return [...seen.values()];
  }, [templates, systemId, unattendedId, action]);

  const setVar = (name: string, value: string) => {
    const v = { ...currentVars };
    if (value === "") delete v[name];
    else v[name] = value;
    setVarsText(JSON.stringify(v, null, 2));
  };

  const nameOf = (list: { id: string; name: string }[], id: string) => list.find((x) => x.id === id)?.name ?? "";
  const what = (() => {
    if (action === "deploy_image") return `image “${nameOf(images, imageId)}” ${version === "latest" ? "(its latest ready version)" : `version ${version}`}${cloudInitId ? `, set up on its first boot by cloud-init with “${nameOf(templates, cloudInitId)}”` : ""}`;
    if (action === "install") return [nameOf(templates, systemId), nameOf(templates, unattendedId)].filter(Boolean).map((n) => `“${n}”`).join(" with ");
    if (action === "capture_disk") return `image “${nameOf(captureTargets, captureId)}”`;
    return undefined;
  })();

  function review(e: FormEvent) {
    e.preventDefault();
    if (!parsedVars()) {
      setFailure({ message: VARS_HINT, fieldErrors: { vars: [VARS_HINT] } });
      return;
    }
    if (action === "install" && !systemId) {
      setFailure({ message: "Choose the system (boot) template to install with.", fieldErrors: { systemTemplateId: ["Choose the system (boot) template to install with."] } });
      return;
    }
    setFailure(null);
    setStep("review");
  }

  async function confirm() {
    const vars = parsedVars() ?? {};
    setBusy(true);
    setFailure(null);
    try {
      // Saved first, so a refused start still keeps what was typed for the next try.
      await callApi(`/api/v1/hosts/${hostId}/boot`, "PUT", {
        vars,
        ...(macs.length > 1 ? { preferredMac: mac || null } : {}),
        ...(action === "install" ? { systemTemplateId: systemId || null, unattendedTemplateId: unattendedId || null } : {}),
      });
      let run: DeploymentView;
      if (action === "install" && waitForBoot) {
        const marked = await callApi<{ deploymentId: string }>(`/api/v1/hosts/${hostId}/reinstall`, "POST", {});
        run = await callApi<DeploymentView>(`/api/v1/deployments/${marked.deploymentId}`, "GET");
      } else {
        const body: Record<string, unknown> = { action, vars, notify, ...(disk.trim() ? { disk: disk.trim() } : {}) };
        if (postInstallOffered && piTyped && !isDiskless) body.postInstall = piTyped;
        else if (postInstallOffered && templateDefault && piSkipDefault && !isDiskless) body.postInstall = null;
        if (isDiskless) Object.assign(body, { imageId, imageVersion: version === "latest" ? "latest" : Number(version), diskless: true });
        else if (action === "deploy_image") Object.assign(body, { imageId, imageVersion: version === "latest" ? "latest" : Number(version), wipeFirst, ...(cloudInitId ? { unattendedTemplateId: cloudInitId } : {}) });
        if (action === "install") Object.assign(body, { systemTemplateId: systemId || undefined, unattendedTemplateId: unattendedId || null });
        if (action === "capture_disk") Object.assign(body, { imageId: captureId });
        if (action === "wipe_disk") Object.assign(body, { wipeMode });
        run = await callApi<DeploymentView>(`/api/v1/hosts/${hostId}/deployments`, "POST", body);
      }
      onStarted(run);
    } catch (err) {
      // Back to the choice, with the reason beside the field it is about.
      setFailure(err instanceof ApiError ? err.failure : { message: (err as Error).message, fieldErrors: {} });
      setStep("choose");
    } finally {
      setBusy(false);
    }
  }

  const fe = failure?.fieldErrors ?? {};
  const system = templates.filter((t) => t.kind === "system");
  const unattended = templates.filter((t) => t.kind === "unattended");
  const cloudInit = unattended.filter((t) => t.format === "cloud-init");
  const hostVarNames = Object.keys(defaults.hostVars);

  // An installed system runs it on its first boot: an install (not the bare mark, which carries
  // no options), or an image deploy whose system applies a cloud-init template.
  const postInstallOffered = (action === "install" && !waitForBoot) || (action === "deploy_image" && Boolean(cloudInitId));
  // The chosen unattended template's default repository, which the run gets unless another is named.
  const templateDefault = templates.find((t) => t.id === (action === "install" ? unattendedId : cloudInitId))?.postInstall ?? null;
  const reviewing = step === "review";
  // The repository typed in the dialog, as the API takes it; else the template's default, unless left out.
  const piTyped = piUrl.trim() ? { gitUrl: piUrl.trim(), ref: piRef.trim() || "main", path: piPath.trim(), kind: piKind } : null;
  const piEffective = piTyped ?? (templateDefault && !piSkipDefault ? templateDefault : null);
  const postInstallSentence =
    postInstallOffered && piEffective
      ? [`On its first boot the installed system fetches ${piEffective.gitUrl} at ${piEffective.ref} and runs ${piEffective.kind === "script" ? `sh ${piEffective.path}` : `ansible-playbook ${piEffective.path}`}${piTyped ? "" : " (the template's default)"}; its output comes to this run's log, and the run ends when it has finished (failed if it fails).`]
      : [];
  const sentences = reviewing && isDiskless
    ? [
        `${hostName} boots ${what} from its own copy-on-write network root: nothing is written to its disk.`,
        "Its changes persist across reboots; every network boot of the machine boots the same root until you reinstall it, start another diskless boot or release the host (then the root is deleted).",
        ...(cannotRestart ? [`Kiln cannot restart ${hostName}: restart it yourself so it boots from the network.`] : []),
      ]
    : reviewing
    ? [...describeReinstall({ action, hostName, cannotRestart, waitForBoot: action === "install" && waitForBoot, wipeFirst, wipeMode, what, disk: disk.trim() || undefined, firstBoot: action === "deploy_image" && Boolean(cloudInitId) }), ...postInstallSentence]
    : [];

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={reviewing ? `Reinstall ${hostName} — review` : "Reinstall"}
      size="lg"
      description={reviewing ? `${ACTION_TITLE[action]}. Nothing has started yet; this is what will happen to the machine:` : "Choose what to do; you review what happens to the machine before anything starts."}
    >
      {reviewing ? (
        <div className="space-y-4">
          <ul className="list-disc space-y-1.5 pl-5 text-sm text-stone-800" data-testid="reinstall-review">
            {sentences.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ul>
          {Object.keys(currentVars).length ? (
            <p className="text-xs text-stone-600">
              With vars <span className="font-mono">{JSON.stringify(currentVars)}</span>
            </p>
          ) : null}
          {failure ? <Alert tone="error">{failure.message}</Alert> : null}
          <DialogActions>
            <Button type="button" variant="secondary" onClick={() => setStep("choose")} disabled={busy}>
              Back
            </Button>
            <Button type="button" variant={action === "capture_disk" ? "primary" : "danger"} onClick={confirm} disabled={busy}>
              {busy ? "Starting…" : isDiskless ? "Boot diskless" : CONFIRM_LABEL[action]}
            </Button>
          </DialogActions>
        </div>
      ) : (
        <form onSubmit={review} className="space-y-4">
          <ActionChoice
            name="action"
            options={[
              ["deploy_image", "Deploy an image", "Write one of your images to the disk."],
              ["install", "Install with templates", "An unattended OS install (preseed, kickstart, cloud-init)."],
              ["capture_disk", "Capture the disk", "Save the disk as the next version of one of your images."],
              ["wipe_disk", "Wipe the disks", "Erase the disks and switch the machine off."],
            ]}
            action={action}
            onAction={setAction}
          />

          {action === "deploy_image" ? (
            images.length === 0 ? (
              <Alert tone="info">You have no images yet; upload one on the Images page.</Alert>
            ) : (
              <ImageChoiceFields
                fe={fe}
                images={images}
                imageId={imageId}
                onImageId={setImageId}
                versions={versions ?? []}
                version={version}
                onVersion={setVersion}
                cloudInit={cloudInit}
                cloudInitId={cloudInitId}
                onCloudInitId={setCloudInitId}
                cloudInitHint="For images with cloud-init (e.g. Debian 12 (cloud image)): your SSH keys, the host name, the template's vars."
                wipeFirst={wipeFirst}
                onWipeFirst={setWipeFirst}
              />
            )
          ) : null}
          {action === "deploy_image" && images.length > 0 ? (
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={diskless} onChange={(e) => setDiskless(e.target.checked)} data-testid="boot-diskless" />
              Boot diskless: run the image from a copy-on-write network root, without writing the disk (no cloud-init)
            </label>
          ) : null}

          {action === "install" ? (
            <div className="space-y-3">
              <div className="grid gap-3 sm:grid-cols-2">
                <TemplateChoiceFields fe={fe} system={system} systemId={systemId} onSystemId={setSystemId} unattended={unattended} unattendedId={unattendedId} onUnattendedId={setUnattendedId} />
              </div>
              {declared.length ? (
                <fieldset className="grid gap-3 rounded-md border border-stone-200 p-3 sm:grid-cols-2">
                  <legend className="px-1 text-sm font-medium text-stone-800">Variables these templates use</legend>
                  {declared.map((v) => (
                    <label key={v.name} className="block text-sm text-stone-800">
                      <span className="font-mono">{v.name}</span> <span className="text-xs text-stone-500">{v.description}</span>
                      <input
                        value={typeof currentVars[v.name] === "string" ? (currentVars[v.name] as string) : currentVars[v.name] === undefined ? "" : JSON.stringify(currentVars[v.name])}
                        placeholder={v.default ?? ""}
                        onChange={(e) => setVar(v.name, e.target.value)}
                        className="mt-1 block w-full rounded-md border border-stone-300 px-2 py-1.5 text-sm"
                      />
                    </label>
                  ))}
                </fieldset>
              ) : null}
              <fieldset className="space-y-1.5">
                <legend className="text-sm font-medium text-stone-800">When</legend>
                <label className="flex items-start gap-2 text-sm">
                  <input type="radio" name="when" checked={!waitForBoot} onChange={() => setWaitForBoot(false)} className="mt-1" />
                  <span>{cannotRestart ? `Now — Kiln wakes it where it can (${cannotRestart}); it installs at its next network boot` : "Now — Kiln restarts the machine"}</span>
                </label>
                <label className="flex items-start gap-2 text-sm">
                  <input type="radio" name="when" checked={waitForBoot} onChange={() => setWaitForBoot(true)} className="mt-1" />
                  <span>At its next network boot — I restart it myself (Kiln does not touch its power)</span>
                </label>
              </fieldset>
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

          {postInstallOffered ? (
            <fieldset className="grid gap-3 rounded-md border border-stone-200 p-3 sm:grid-cols-2">
              <legend className="px-1 text-sm font-medium text-stone-800">Post-install configuration from git (optional)</legend>
              {templateDefault ? (
                <div className="space-y-1 text-sm text-stone-700 sm:col-span-2">
                  <p>
                    The template runs <span className="font-mono">{templateDefault.path}</span> from <span className="font-mono">{templateDefault.gitUrl}</span> at{" "}
                    <span className="font-mono">{templateDefault.ref}</span> by default; fill in a repository below to run another.
                  </p>
                  <label className="flex items-center gap-2">
                    <input type="checkbox" checked={piSkipDefault} onChange={(e) => setPiSkipDefault(e.target.checked)} />
                    Don&apos;t run the template&apos;s default
                  </label>
                </div>
              ) : null}
              <Field
                label="Repository URL"
                value={piUrl}
                onChange={(e) => setPiUrl(e.target.value)}
                placeholder="https://git.example.org/lab/setup.git"
                error={errorsOf(fe, "postInstall.gitUrl") ?? fe.postInstall}
                hint="http, https or git; readable without credentials. Cloned and run once, on the installed system's first boot."
              />
              <Field label="Branch, tag or commit" value={piRef} onChange={(e) => setPiRef(e.target.value)} error={errorsOf(fe, "postInstall.ref")} />
              <Field label="Script or playbook in it" value={piPath} onChange={(e) => setPiPath(e.target.value)} placeholder="setup.sh or site.yml" error={errorsOf(fe, "postInstall.path")} />
              <SelectField label="Run it with" value={piKind} onChange={(e) => setPiKind(e.target.value as "script" | "ansible-playbook")} error={errorsOf(fe, "postInstall.kind")}>
                <option value="script">sh (a shell script)</option>
                <option value="ansible-playbook">ansible-playbook -i localhost, -c local</option>
              </SelectField>
            </fieldset>
          ) : null}

          <Field label="Disk (optional)" value={disk} onChange={(e) => setDisk(e.target.value)} placeholder="sda, nvme0n1 — else vars.disk, else the first disk" error={errorsOf(fe, "disk")} />
          <TextAreaField
            label="Vars (JSON object; override the host's)"
            value={varsText}
            onChange={(e) => setVarsText(e.target.value)}
            rows={3}
            error={errorsOf(fe, "vars")}
            hint={hostVarNames.length ? `The host's own vars (set by an administrator): ${JSON.stringify(defaults.hostVars)}` : undefined}
          />
          {macs.length > 1 ? (
            <SelectField label="Boot interface" value={mac} onChange={(e) => setMac(e.target.value)} error={errorsOf(fe, "preferredMac")}>
              <option value="">the PXE interface</option>
              {macs.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </SelectField>
          ) : null}
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={notify} onChange={(e) => setNotify(e.target.checked)} />
            Mail me when it finishes
          </label>
          {failure && !Object.values(fe).flat().includes(failure.message) ? <Alert tone="error">{failure.message}</Alert> : null}
          <FormActions onCancel={onClose} cancelLabel="Close" busy={false} label="Review…" disabled={(action === "deploy_image" && !imageId) || (action === "capture_disk" && !captureId)} />
        </form>
      )}
    </Dialog>
  );
}

const ACTION_TITLE: Record<Action, string> = { deploy_image: "Deploy an image", install: "Unattended install", capture_disk: "Capture the disk", wipe_disk: "Wipe the disks" };
const CONFIRM_LABEL: Record<Action, string> = { deploy_image: "Erase the disk and deploy", install: "Erase the disk and install", capture_disk: "Capture the disk", wipe_disk: "Wipe the disks" };
