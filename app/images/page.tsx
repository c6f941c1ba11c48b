// /images — disk images the user may see (own, shared with their projects, public), searchable, with their latest ready version
import Link from "next/link";
import { NewImageButton } from "@/components/images/image-forms";
import { ImageTable } from "@/components/images/image-table";
import { asJson } from "@/components/images/types";
import { Alert } from "@/components/ui/alert";
import { FILTER_CONTROL, FilterBar, FilterField } from "@/components/ui/filters";
import { Pagination } from "@/components/ui/pagination";
import { cleanParams, type SearchParams } from "@/components/ui/query";
import { actorOf, isAdminUser } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { listImages } from "@/lib/images/images";
import { getMyProjects } from "@/lib/projects/projects";

export const metadata = { title: "Images" };
export const dynamic = "force-dynamic";

const PER_PAGE = 50;

export default async function ImagesPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const { user } = await requirePageUser("/images");
  const params = cleanParams(await searchParams);
  const { deleted, ...filters } = params;
  delete filters.per_page;
  const db = getAppDb();
  const [projects, result] = await Promise.all([
    getMyProjects(db, user.id),
    listImages(db, actorOf(user, null), { ...filters, per_page: PER_PAGE }).catch((e: unknown) => {
      if (isAppError(e)) return e;
      throw e;
    }),
  ]);
  return (
    <div className="mx-auto max-w-6xl space-y-6 px-4 py-8">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Images</h1>
          <p className="mt-1 text-sm text-stone-600">OS disk images with numbered versions. Upload a version, then deploy it to the machines you hold.</p>
        </div>
        <NewImageButton projects={projects.map((p) => ({ id: p.projectId, name: p.name }))} canPublish={isAdminUser(user)} />
      </div>
      {deleted ? <Alert tone="success">Image deleted.</Alert> : null}
      <FilterBar action="/images" canClear={Boolean(filters.q)}>
        <FilterField id="image-q" label="Search">
          <input id="image-q" name="q" type="search" defaultValue={filters.q ?? ""} placeholder="Name or description" className={`${FILTER_CONTROL} w-72`} />
        </FilterField>
      </FilterBar>
      {isAppError(result) ? (
        <Alert tone="error">{result.message}</Alert>
      ) : result.data.length === 0 ? (
        <div className="rounded-lg border border-dashed border-stone-300 bg-white px-6 py-10 text-center text-sm text-stone-600">
          {filters.q ? (
            <>
              No image matches “{filters.q}”.{" "}
              <Link href="/images" className="font-medium text-kiln-700 hover:underline">
                Show all
              </Link>
            </>
          ) : (
            <>
              No images yet. Use <span className="font-medium">New image</span> to make one and upload its first version.
            </>
          )}
        </div>
      ) : (
        <>
          <ImageTable images={asJson(result.data)} />
          <Pagination base="/images" params={filters} page={result.pagination.page} perPage={result.pagination.perPage} total={result.pagination.total} />
        </>
      )}
    </div>
  );
}
