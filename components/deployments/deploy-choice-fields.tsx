"use client";
// The choices a host's Reinstall dialog and a lease's "Deploy to hosts" dialog share: what to
// do, which image (its ready versions, cloud-init on first boot, erase first) and which
// templates. State stays with each dialog; these only render it, so the two cannot drift apart.
import { SelectField } from "../ui/field";
import { errorsOf } from "../ui/use-api";

type FieldErrors = Record<string, string[]>;
type Named = { id: string; name: string };

/** A select's options for named things (images, templates), valued by id. */
export function NamedOptions({ items }: { items: Named[] }) {
  return (
    <>
      {items.map((i) => (
        <option key={i.id} value={i.id}>
          {i.name}
        </option>
      ))}
    </>
  );
}

/** The "What to do" radios: [value, label, hint] for each action this dialog offers. */
export function ActionChoice<A extends string>({
  name,
  options,
  action,
  onAction,
}: {
  name: string;
  options: readonly (readonly [A, string, string])[];
  action: A;
  onAction: (a: A) => void;
}) {
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-stone-800">What to do</legend>
      {options.map(([value, label, hint]) => (
        <label key={value} className="flex items-start gap-2 text-sm">
          <input type="radio" name={name} value={value} checked={action === value} onChange={() => onAction(value)} className="mt-1" />
          <span>
            <span className="font-medium">{label}</span> <span className="text-stone-500">— {hint}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

/** Image, its ready version ("latest" or a number as text), cloud-init on first boot, erase first. */
export function ImageChoiceFields({
  fe,
  images,
  imageId,
  onImageId,
  versions,
  version,
  onVersion,
  cloudInit,
  cloudInitId,
  onCloudInitId,
  cloudInitHint,
  wipeFirst,
  onWipeFirst,
}: {
  fe: FieldErrors;
  images: Named[];
  imageId: string;
  onImageId: (id: string) => void;
  versions: { version: number }[];
  version: string;
  onVersion: (v: string) => void;
  cloudInit: Named[];
  cloudInitId: string;
  onCloudInitId: (id: string) => void;
  cloudInitHint?: string;
  wipeFirst: boolean;
  onWipeFirst: (v: boolean) => void;
}) {
  return (
    <div className="grid gap-3 sm:grid-cols-2">
      <SelectField label="Image" value={imageId} onChange={(e) => onImageId(e.target.value)} error={errorsOf(fe, "imageId")}>
        <NamedOptions items={images} />
      </SelectField>
      <SelectField label="Version" value={version} onChange={(e) => onVersion(e.target.value)} error={errorsOf(fe, "imageVersion")}>
        <option value="latest">latest ready</option>
        {versions.map((v) => (
          <option key={v.version} value={String(v.version)}>
            version {v.version}
          </option>
        ))}
      </SelectField>
      <SelectField label="cloud-init on first boot" value={cloudInitId} onChange={(e) => onCloudInitId(e.target.value)} error={errorsOf(fe, "unattendedTemplateId")} hint={cloudInitHint}>
        <option value="">— none —</option>
        <NamedOptions items={cloudInit} />
      </SelectField>
      <label className="flex items-center gap-2 text-sm sm:col-span-2">
        <input type="checkbox" checked={wipeFirst} onChange={(e) => onWipeFirst(e.target.checked)} />
        Erase the whole disk first (not only what the image covers)
      </label>
    </div>
  );
}

/** The system (iPXE) and unattended template selects, for the caller's grid. */
export function TemplateChoiceFields({
  fe,
  system,
  systemId,
  onSystemId,
  unattended,
  unattendedId,
  onUnattendedId,
}: {
  fe: FieldErrors;
  system: Named[];
  systemId: string;
  onSystemId: (id: string) => void;
  unattended: Named[];
  unattendedId: string;
  onUnattendedId: (id: string) => void;
}) {
  return (
    <>
      <SelectField label="System template (iPXE)" value={systemId} onChange={(e) => onSystemId(e.target.value)} error={errorsOf(fe, "systemTemplateId")}>
        <option value="">— choose —</option>
        <NamedOptions items={system} />
      </SelectField>
      <SelectField label="Unattended template" value={unattendedId} onChange={(e) => onUnattendedId(e.target.value)} error={errorsOf(fe, "unattendedTemplateId")}>
        <option value="">— none —</option>
        <NamedOptions items={unattended} />
      </SelectField>
    </>
  );
}
