// Image bytes for a run's token on the boot server (node:http). Placeholder until the fast
// path lands: the shared blob answer (./blob.ts) streamed onto the node response.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { Db } from "../db";
import { versionParamSchema } from "../validation/images";
import { IMAGE_NOT_FOUND } from "./images";
import { serveImageBlob } from "./blob";
import { AppError } from "../errors";

export async function serveBlobNode(db: Db, req: IncomingMessage, res: ServerResponse, p: { imageId: string; ref: string; token: string }): Promise<void> {
  const parsed = versionParamSchema.safeParse(p.ref);
  if (!parsed.success) throw new AppError("not_found", IMAGE_NOT_FOUND);
  const ref = parsed.data;
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const web = await serveImageBlob(db, { caller: { kind: "deployment-token", token: p.token }, imageId: p.imageId, ref, method: req.method ?? "GET", headers });
  const out: Record<string, string> = {};
  web.headers.forEach((v, k) => (out[k === "x-kiln-content-length" ? "content-length" : k] = v));
  res.writeHead(web.status, out);
  if (!web.body) return void res.end();
  const body = Readable.fromWeb(web.body as never);
  body.once("error", () => res.destroy());
  res.once("close", () => body.destroy());
  body.pipe(res);
}
