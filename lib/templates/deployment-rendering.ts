// A run's templates rendered into the text its machine is served, and the context every template
// sees (a host's facts, vars, holder, image). Below lib/boot and lib/deployments: the run is
// rendered when it is created (lib/deployments) and served when its machine asks (lib/boot).
import { randomBytes } from "node:crypto";
import { getBootSettingsRow, getHolder, getHostVars } from "@/db/queries/boot";
import { listInterfaces } from "@/db/queries/hosts";
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import { getTemplateVersion } from "@/db/queries/templates";
import type { HostRow } from "@/db/schema";
import { buildBootContext, type BootContextInput } from "@/boot/context";
import type { PostInstall } from "@/boot/post-install";
import { TemplateError } from "@/boot/template";
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { loadExtraDisksContext } from "../extra-disks/context";
import { blobPathOf } from "../images/images";
import { siteBootUrlOf } from "../sites/sites";
import { renderInPool } from "./render-pool";

/** What a run's templates are rendered from: its id, action, vars and pinned versions. */
export type DeploymentTemplateInput = {
  id: string;
  action: string;
  vars: Record<string, unknown>;
  /** The git repository the installed system runs on first boot (deployment.post_install). */
  postInstall?: PostInstall | null;
  imageId: string | null;
  imageVersion: number | null;
};

export type DeploymentRendering = { renderedSystem: string | null; renderedUnattended: string | null; tokenPlaceholder: string };

/**
 * Stands in for a run's one-time token in its stored text: random per run, the token's length
 * and alphabet (so templates that check or quote it see the same shape). The token itself is
 * derived at serve time and never stored (lib/deployments/deployment-token.ts).
 */
function newTokenPlaceholder(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Renders one pinned template of a run, off the web thread (render pool), with `token` where
 * the run's token goes. Throws a TemplateError for anything wrong with the template.
 */
async function renderRunTemplate(
  db: DbOrTx,
  p: { host: HostRow; mac: string | null; run: DeploymentTemplateInput; template: { id: string | null; version: number | null }; which: "system" | "unattended"; token: string },
): Promise<string> {
  const { id: templateId, version } = p.template;
  if (!templateId || !version) throw new TemplateError(`this deployment has no ${p.which} template`, 1, 1, "render");
  const tv = await getTemplateVersion(db, { templateId, version });
  if (!tv) throw new TemplateError(`${p.which} template version ${version} no longer exists`, 1, 1, "render");
  // The host's site's boot URL, read once for the image URL and the context.
  const baseUrl = await siteBootUrlOf(db, p.host);
  const image = await imageContextOf(db, p.run, p.token, baseUrl);
  const context = await loadBootContext(db, { host: p.host, mac: p.mac, deployment: p.run, token: p.token, image, baseUrl });
  return renderInPool(tv.source, context);
}

/**
 * Renders both templates of a run once, with a fresh token placeholder, for storing on its row.
 * `onError` turns a template's TemplateError into the caller's own error (which template failed).
 */
export async function renderDeploymentTemplates(
  db: DbOrTx,
  p: { host: HostRow; mac: string | null; run: DeploymentTemplateInput; system: { id: string | null; version: number | null } | null; unattended: { id: string | null; version: number | null } | null },
  onError?: (which: "system" | "unattended", e: TemplateError) => never,
): Promise<DeploymentRendering> {
  const tokenPlaceholder = newTokenPlaceholder();
  const one = async (which: "system" | "unattended", template: { id: string | null; version: number | null } | null) => {
    if (!template?.id) return null;
    try {
      return await renderRunTemplate(db, { host: p.host, mac: p.mac, run: p.run, template, which, token: tokenPlaceholder });
    } catch (e) {
      if (onError && e instanceof TemplateError) onError(which, e);
      throw e;
    }
  };
  return { tokenPlaceholder, renderedSystem: await one("system", p.system), renderedUnattended: await one("unattended", p.unattended) };
}

/** What templates see of the image a run writes: its name, version, checksum and the URL its token opens. */
export async function imageContextOf(db: DbOrTx, d: { imageId: string | null; imageVersion: number | null }, token: string, baseUrl = getEnv().bootUrl): Promise<BootContextInput["image"]> {
  if (!d.imageId || !d.imageVersion) return null;
  const [image, version] = await Promise.all([getImageRow(db, d.imageId), getImageVersionRow(db, { imageId: d.imageId, version: d.imageVersion })]);
  if (!image || !version) return null;
  return {
    name: image.name,
    version: version.version,
    url: `${baseUrl}${blobPathOf(image.id, version.version)}?token=${token}`,
    sha256: version.sha256 ?? "",
    format: version.format ?? "raw",
    sizeBytes: version.sizeBytes,
  };
}

/** The template context of a host: its facts, vars (lease over host), holder, deployment. */
export async function loadBootContext(
  db: DbOrTx,
  p: {
    host: HostRow;
    mac: string | null;
    deployment: { id: string; action: string; vars?: Record<string, unknown>; postInstall?: PostInstall | null } | null;
    token: string | null;
    vars?: Record<string, unknown>;
    image?: BootContextInput["image"];
    /** The host's site's boot URL when the caller has it already. */
    baseUrl?: string;
  },
) {
  const ifaces = await listInterfaces(db, [p.host.id]);
  const holder = await getHolder(db, p.host.id);
  const settings = await getBootSettingsRow(db, p.host.id);
  const preferred = settings && settings.leaseId === holder?.leaseId ? settings.preferredMac : null;
  // The interface templates configure: the holder's choice, else the one that asked, else the PXE one.
  const iface = ifaces.find((i) => i.mac === preferred) ?? ifaces.find((i) => i.mac === p.mac) ?? ifaces.find((i) => i.isPxe) ?? ifaces[0];
  // A deployment uses the vars it was marked with; otherwise the holder's current settings.
  const leaseVars = p.vars ?? p.deployment?.vars ?? (settings && settings.leaseId === holder?.leaseId ? settings.vars : {});
  return buildBootContext({
    baseUrl: p.baseUrl ?? (await siteBootUrlOf(db, p.host)),
    host: {
      name: p.host.name,
      macs: ifaces.map((i) => i.mac),
      interface: { mac: iface?.mac ?? "", name: iface?.name ?? "" },
      facts: p.host.facts,
      cpuCores: p.host.cpuCores,
      memoryMb: p.host.memoryMb,
      disks: p.host.disks,
    },
    hostVars: await getHostVars(db, p.host.id),
    leaseVars,
    user: holder ? { name: holder.user.name, email: holder.user.email, sshKeys: holder.sshKeys } : null,
    image: p.image ?? null,
    deployment: p.deployment ? { id: p.deployment.id, action: p.deployment.action, token: p.token ?? "", postInstall: p.deployment.postInstall ?? null } : null,
    extraDisks: await loadExtraDisksContext(db, p.host.id),
  });
}
