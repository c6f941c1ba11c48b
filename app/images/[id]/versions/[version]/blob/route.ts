// GET|HEAD /images/:id/versions/:version/blob — a version's bytes (`latest` too), with Range, If-Range and ETag.
// Session, bearer token, or `?token=` of the deployment that writes this version.
import { idParam, versionParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { withErrors } from "@/lib/http/handler";
import { serveImageBlob, type BlobCaller } from "@/lib/images/blob";
import { IMAGE_NOT_FOUND } from "@/lib/images/images";

export const dynamic = "force-dynamic";

async function handle(req: Request, ctx: IdContext<"id" | "version">): Promise<Response> {
  const imageId = await idParam(ctx, "id", IMAGE_NOT_FOUND);
  const ref = await versionParam(ctx, "version", IMAGE_NOT_FOUND);
  const token = new URL(req.url).searchParams.get("token");
  const caller: BlobCaller = token !== null ? { kind: "deployment-token", token } : { kind: "actor", actor: await requireActor(req) };
  return serveImageBlob(getAppDb(), { caller, imageId, ref, method: req.method, headers: req.headers });
}

export const GET = withErrors(handle);
export const HEAD = withErrors(handle);
