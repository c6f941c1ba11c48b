// /images/:id — one image: its versions (live while they upload and verify), the upload panel, and the owner's edit, share and delete
import Link from "next/link";
import { notFound } from "next/navigation";
import { ImageActions } from "@/components/images/image-actions";
import { VisibilityBadge } from "@/components/images/image-table";
import { ImageVersions } from "@/components/images/image-versions";
import { asJson } from "@/components/images/types";
import { Alert } from "@/components/ui/alert";
import { formatBytes, formatDateTime, plural } from "@/components/ui/format";
import { actorOf, isAdminUser } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { getImage } from "@/lib/images/images";
import { getMyProjects } from "@/lib/projects/projects";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Image" };
export const dynamic = "force-dynamic";

export default async function ImagePage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ deletedVersion?: string }> }) {
  const { id } = await params;
  const { deletedVersion } = await searchParams;
  const { user } = await requirePageUser(`/images/${id}`);
  if (!uuidSchema.safeParse(id).success) notFound();
  const db = getAppDb();
  let image;
  try {
    image = await getImage(db, actorOf(user, null), id);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
  const projects = image.canEdit ? await getMyProjects(db, user.id) : [];
  const { versions, ...rest } = image;
  const view = asJson(rest);
  return (
    <div className="mx-auto max-w-6xl space-y-6 px-4 py-8">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0 space-y-2">
          <p className="text-sm text-stone-500">
            <Link href="/images" className="hover:underline">
              Images
            </Link>{" "}
            /
          </p>
          <h1 className="break-words text-2xl font-semibold">{image.name}</h1>
          {image.description ? <p className="max-w-3xl whitespace-pre-wrap text-sm text-stone-700">{image.description}</p> : null}
          <p className="flex flex-wrap items-center gap-x-2 gap-y-1 text-sm text-stone-600">
            <VisibilityBadge image={image} />
            <span>
              owner {image.ownerEmail ?? "—"} · {plural(image.versionCount, "version")} · {formatBytes(image.totalBytes)} stored · created {formatDateTime(image.createdAt)}
            </span>
          </p>
          {image.latestVersion !== null ? (
            <p className="text-sm text-stone-600">
              <code className="rounded bg-stone-100 px-1.5 py-0.5 font-mono text-xs">latest</code> is{" "}
              <Link href={`/images/${image.id}/versions/${image.latestVersion}`} className="font-medium text-kiln-700 hover:underline">
                version {image.latestVersion}
              </Link>
              , the newest ready one.
            </p>
          ) : null}
        </div>
        {image.canEdit ? <ImageActions image={view} projects={projects.map((p) => ({ id: p.projectId, name: p.name }))} canPublish={isAdminUser(user)} versionCount={image.versionCount} /> : null}
      </div>
      {deletedVersion ? <Alert tone="success">Deleted version {deletedVersion}.</Alert> : null}
      <ImageVersions imageId={image.id} initial={asJson(versions)} canEdit={image.canEdit} canUpload={image.canEdit} />
    </div>
  );
}
