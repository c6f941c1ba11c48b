// /images/:id/versions/:version — one version: checksum, format, size, download (with a resumable curl), notes, and the deployments that used it
import Link from "next/link";
import { notFound } from "next/navigation";
import { asJson } from "@/components/images/types";
import { VersionDetail } from "@/components/images/version-detail";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { blobPathOf, getImage, getImageVersion } from "@/lib/images/images";
import { uuidSchema } from "@/lib/validation/common";
import { versionParamSchema } from "@/lib/validation/images";

export const metadata = { title: "Image version" };
export const dynamic = "force-dynamic";

export default async function ImageVersionPage({ params }: { params: Promise<{ id: string; version: string }> }) {
  const { id, version: versionParam } = await params;
  const { user } = await requirePageUser(`/images/${id}/versions/${versionParam}`);
  const ref = versionParamSchema.safeParse(versionParam);
  if (!uuidSchema.safeParse(id).success || !ref.success) notFound();
  const db = getAppDb();
  const actor = actorOf(user, null);
  let image, version;
  try {
    [image, version] = await Promise.all([getImage(db, actor, id), getImageVersion(db, actor, id, ref.data)]);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
  return (
    <div className="mx-auto max-w-6xl space-y-6 px-4 py-8">
      <p className="text-sm text-stone-500">
        <Link href="/images" className="hover:underline">
          Images
        </Link>{" "}
        /{" "}
        <Link href={`/images/${image.id}`} className="hover:underline">
          {image.name}
        </Link>{" "}
        /
      </p>
      <VersionDetail initial={asJson(version)} blobUrl={`${getEnv().baseUrl}${blobPathOf(image.id, version.version)}`} canEdit={image.canEdit} isLatest={image.latestVersion === version.version} />
    </div>
  );
}
