"use client";
// "Ready at the start" in the two booking forms (the calendar's and /reservations' Reserve): hosts
// as they are, an image (a version, and cloud-init on first boot as the Reinstall dialog offers),
// or an install with templates — the choices and words of the Reinstall and "Deploy to hosts"
// dialogs (components/deployments/deploy-choice-fields.tsx), limited to what a reservation can
// deploy: no wipe, no capture, and not ImageChoiceFields, whose "erase the whole disk first" a
// reservation's deploy does not carry (pinReservationDeploy keeps no wipeFirst). Images and
// templates are loaded only once a deploy is chosen, so a plain booking costs nothing more.
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { ActionChoice, NamedOptions, TemplateChoiceFields } from "@/components/deployments/deploy-choice-fields";
import type { ImageOption, TemplateOption } from "@/components/deployments/types";
import { Alert } from "@/components/ui/alert";
import { SelectField } from "@/components/ui/field";
import { callApi, errorsOf } from "@/components/ui/use-api";

export type ReadyChoice = {
  action: "none" | "deploy_image" | "install";
  imageId: string;
  /** "latest" or a version number as text. */
  version: string;
  cloudInitId: string;
  systemId: string;
  unattendedId: string;
};

export const NO_DEPLOY: ReadyChoice = { action: "none", imageId: "", version: "latest", cloudInitId: "", systemId: "", unattendedId: "" };

const OPTIONS = [
  ["none", "Nothing (hosts as they are)", "You get the machines with whatever is on their disks."],
  ["deploy_image", "Deploy an image", "Write one of your images to each disk."],
  ["install", "Install with templates", "An unattended OS install on each machine."],
] as const;

/** The reservation's `deploy` (lib/validation/reservations.ts reservationDeploySchema), or undefined for none. */
export function deployOf(c: ReadyChoice): Record<string, unknown> | undefined {
  if (c.action === "deploy_image") return { action: "deploy_image", imageId: c.imageId, imageVersion: c.version === "latest" ? "latest" : Number(c.version), ...(c.cloudInitId ? { unattendedTemplateId: c.cloudInitId } : {}) };
  if (c.action === "install") return { action: "install", systemTemplateId: c.systemId || undefined, unattendedTemplateId: c.unattendedId || null };
  return undefined;
}

/** The server names the deploy's fields deploy.imageId…: shown beside the same fields here. */
export function deployFieldErrors(fieldErrors: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(fieldErrors).filter(([k]) => k.startsWith("deploy.") || k === "deploy").map(([k, v]) => [k.replace(/^deploy\.?/, "") || "action", v]));
}

export function ReadyAtStartFields({ value, onChange, fieldErrors = {} }: { value: ReadyChoice; onChange: (c: ReadyChoice) => void; fieldErrors?: Record<string, string[]> }) {
  const wanted = value.action !== "none";
  const images = useQuery({
    queryKey: ["images", "deployable"],
    queryFn: () => callApi<{ data: (ImageOption & { canEdit: boolean })[] }>("/api/v1/images?per_page=100", "GET"),
    enabled: value.action === "deploy_image",
    // The caller's own images first, then the shared ones; only those with a ready version.
    select: (r) => r.data.filter((i) => i.latestVersion !== null).sort((a, b) => Number(b.canEdit) - Number(a.canEdit)),
  });
  const templates = useQuery({ queryKey: ["templates"], queryFn: () => callApi<{ data: TemplateOption[] }>("/api/v1/templates", "GET"), enabled: wanted, select: (r) => r.data });
  const versions = useQuery({
    queryKey: ["image-versions", value.imageId],
    queryFn: () => callApi<{ data: { version: number; state: string }[] }>(`/api/v1/images/${value.imageId}/versions`, "GET"),
    enabled: value.action === "deploy_image" && Boolean(value.imageId),
    select: (r) => r.data.filter((v) => v.state === "ready"),
  });
  const imageList = images.data ?? [];
  const set = (patch: Partial<ReadyChoice>) => onChange({ ...value, ...patch });
  // The first image is the default, as in the dialogs, once the list has come.
  useEffect(() => {
    if (value.action === "deploy_image" && !value.imageId && imageList[0]) onChange({ ...value, imageId: imageList[0].id });
  }, [value, imageList, onChange]);

  const all = templates.data ?? [];
  const system = all.filter((t) => t.kind === "system");
  const unattended = all.filter((t) => t.kind === "unattended");
  const cloudInit = unattended.filter((t) => t.format === "cloud-init");
  const fe = fieldErrors;

  return (
    <fieldset className="space-y-3 rounded-md border border-stone-200 p-3" data-testid="ready-at-start">
      <legend className="px-1 text-sm font-medium text-stone-800">Ready at the start</legend>
      <ActionChoice name="ready-at-start" options={OPTIONS} action={value.action} onAction={(action) => set({ action })} />
      {errorsOf(fe, "action") ? <p className="text-sm text-red-700">{errorsOf(fe, "action")!.join(" ")}</p> : null}

      {value.action === "deploy_image" ? (
        images.isPending ? (
          <p className="text-sm text-stone-500">Loading images…</p>
        ) : imageList.length === 0 ? (
          <Alert tone="info">You have no images with a ready version; upload one on the Images page.</Alert>
        ) : (
          <div className="grid gap-3 sm:grid-cols-2">
            <SelectField label="Image" value={value.imageId} onChange={(e) => set({ imageId: e.target.value, version: "latest" })} error={errorsOf(fe, "imageId")}>
              <NamedOptions items={imageList} />
            </SelectField>
            <SelectField label="Version" value={value.version} onChange={(e) => set({ version: e.target.value })} error={errorsOf(fe, "imageVersion")}>
              <option value="latest">latest ready</option>
              {(versions.data ?? []).map((v) => (
                <option key={v.version} value={String(v.version)}>
                  version {v.version}
                </option>
              ))}
            </SelectField>
            <SelectField
              label="cloud-init on first boot"
              value={value.cloudInitId}
              onChange={(e) => set({ cloudInitId: e.target.value })}
              error={errorsOf(fe, "unattendedTemplateId")}
              hint="For images with cloud-init (e.g. Debian 12 (cloud image)): your SSH keys, the host name, the template's vars."
            >
              <option value="">— none —</option>
              <NamedOptions items={cloudInit} />
            </SelectField>
          </div>
        )
      ) : null}

      {value.action === "install" ? (
        <div className="grid gap-3 sm:grid-cols-2">
          <TemplateChoiceFields
            fe={fe}
            system={system}
            systemId={value.systemId}
            onSystemId={(systemId) => set({ systemId })}
            unattended={unattended}
            unattendedId={value.unattendedId}
            onUnattendedId={(unattendedId) => set({ unattendedId })}
          />
        </div>
      ) : null}

      {wanted ? (
        <p className="text-xs text-stone-500">
          Kiln takes the hosts earlier than the start, by its measured deploy time of this image or template on these hosts plus a margin (30 minutes when it has never been measured), and deploys
          then, so they are ready at the start. The reservation&apos;s page shows the plan and follows the deploy.
        </p>
      ) : null}
    </fieldset>
  );
}
