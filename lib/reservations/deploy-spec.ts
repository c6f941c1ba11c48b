// What a reservation deploys "ready at the start", pinned at admission: the image version and
// template versions that are latest today are the ones deployed, even if newer ones appear
// before the start (the holder booked a known system, and the lead was planned for it).
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import { getTemplateRow } from "@/db/queries/templates";
import type { ReservationDeploy } from "@/db/schema";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import type { Actor } from "../access/actor";
import { canReadShared } from "../access/sharing";
import { getReadableTemplate } from "../templates/templates";
import type { z } from "zod";
import type { reservationDeploySchema } from "../validation/reservations";

type DeployInput = z.infer<typeof reservationDeploySchema>;

async function pinTemplate(db: DbOrTx, actor: Actor, id: string, field: "systemTemplateId" | "unattendedTemplateId") {
  const t = await getReadableTemplate(db, actor, id).catch(() => null);
  if (!t) throw AppError.field(`deploy.${field}`, "That template does not exist, or you may not use it.");
  const want = field === "systemTemplateId" ? "system" : "unattended";
  if (t.kind !== want) throw AppError.field(`deploy.${field}`, `“${t.name}” is ${t.kind === "system" ? "a system" : "an unattended"} template; choose ${want === "system" ? "a system (iPXE)" : "an unattended"} one.`);
  return t;
}

/** Validates what to deploy (as a run start would be) and pins every version it names. */
export async function pinReservationDeploy(db: DbOrTx, actor: Actor, data: DeployInput): Promise<ReservationDeploy> {
  const action = data.action as ReservationDeploy["action"];
  const out: ReservationDeploy = { action };
  if (action === "install") {
    // No host is held yet, so its boot settings cannot decide: the install names its templates.
    if (!data.systemTemplateId) throw AppError.field("deploy.systemTemplateId", "Choose the system (boot) template to install with.");
    const sys = await pinTemplate(db, actor, data.systemTemplateId, "systemTemplateId");
    out.systemTemplateId = sys.id;
    out.systemTemplateVersion = sys.latestVersion;
  }
  if (data.unattendedTemplateId) {
    const un = await pinTemplate(db, actor, data.unattendedTemplateId, "unattendedTemplateId");
    out.unattendedTemplateId = un.id;
    out.unattendedTemplateVersion = un.latestVersion;
  } else if (data.unattendedTemplateId === null) {
    out.unattendedTemplateId = null;
    out.unattendedTemplateVersion = null;
  }
  if (data.imageId) {
    const image = await getImageRow(db, data.imageId);
    if (!image || !(await canReadShared(db, actor, image))) throw AppError.field("deploy.imageId", "That image does not exist, or you may not use it.");
    const version = data.imageVersion === "latest" ? image.latestVersion : data.imageVersion;
    if (version === null) throw AppError.field("deploy.imageId", `Image “${image.name}” has no ready version yet.`);
    const row = await getImageVersionRow(db, { imageId: image.id, version });
    if (!row || row.state !== "ready") throw AppError.field("deploy.imageVersion", `Image “${image.name}” has no ready version ${version}.`);
    out.imageId = image.id;
    out.imageVersion = version;
  }
  if (data.vars) out.vars = data.vars as Record<string, unknown>;
  if (data.disk) out.disk = data.disk;
  if (data.postInstall !== undefined) out.postInstall = data.postInstall;
  return out;
}

/** In words, for lists and the page: "deploy image “Debian 12” v3" / "install with “debian-preseed” v2". */
export function describeDeploy(d: ReservationDeploy | null, names: { image?: string | null; template?: string | null } = {}): string | null {
  if (!d) return null;
  if (d.action === "deploy_image") return `deploy image “${names.image ?? d.imageId ?? "?"}” v${d.imageVersion ?? "?"}`;
  return `install with “${names.template ?? d.systemTemplateId ?? "?"}” v${d.systemTemplateVersion ?? "?"}`;
}

/** The image and template names the reservations' deploys name, by id (one read per distinct id). */
export async function loadDeployNames(db: DbOrTx, deploys: (ReservationDeploy | null)[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const d of deploys) {
    if (!d) continue;
    if (d.imageId && !names.has(d.imageId)) names.set(d.imageId, (await getImageRow(db, d.imageId))?.name ?? d.imageId);
    if (d.systemTemplateId && !names.has(d.systemTemplateId)) names.set(d.systemTemplateId, (await getTemplateRow(db, d.systemTemplateId))?.name ?? d.systemTemplateId);
  }
  return names;
}
