// The tus endpoint at /api/uploads, for both of its callers: a person uploading an image
// version, and a capture run's agent uploading the machine's disk (Authorization: Kiln-Run …).
// Above lib/images (the versions' bookkeeping, ../images/uploads.ts) and lib/deployments (the
// capture run's hooks): the one place that ties them together.
import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Server, type Upload } from "@tus/server";
import { ERRORS, StreamLimiter, type DataStore } from "@tus/utils";
import { NodeRequest, sendNodeResponse } from "srvx/node";
import { getImageUploadRow } from "@/db/queries/images";
import { actorOf, type Actor } from "../access/actor";
import { getRequestUser } from "../auth/request-user";
import type { Found } from "../deployments/deployment-auth";
import { beginCaptureUpload, checkCaptureRequest, getCaptureDeployment, noteCaptureReceived } from "../deployments/capture";
import { isDeploymentAuthorization } from "../deployments/deployment-auth";
import { getAppDb } from "../db";
import { AppError, isAppError, toErrorBody } from "../errors";
import { getRequestContext } from "../http/context";
import { getLogger } from "../log";
import { UPLOAD_PATH } from "../validation/images";
import { beginImageUpload } from "../images/images";
import { getImageStorage, type ImageStorage } from "../images/storage";
import { cancelImageUpload, finishImageUpload, finishStoredUpload, getOwnUpload } from "../images/uploads";

/**
 * Who sent each request — a person (session or API token) or a capture run's agent (its
 * one-time token) — and the refusal a hook raised (answered as Kiln's JSON error body).
 */
type RequestState = { actor: Actor; run?: Found; error?: AppError };
const requests = new WeakMap<Request, RequestState>();

/** tus answers `{ status_code, body }` objects thrown by hooks as they are. */
function refuse(req: Request, e: AppError): { status_code: number; body: string } {
  const state = requests.get(req);
  if (state) state.error = e;
  return { status_code: e.status, body: `${e.message}\n` };
}

function stateOf(req: Request): RequestState {
  const state = requests.get(req);
  if (!state) throw new Error("upload request without an actor");
  return state;
}

/** Throws the hook's refusal in tus's shape; anything unexpected is logged and becomes a 500. */
async function guarded<T>(req: Request, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isAppError(e)) throw refuse(req, e);
    getLogger("uploads").error({ err: e, method: req.method, url: req.url }, "upload hook failed");
    throw refuse(req, new AppError("internal", toErrorBody(e).body.error.message));
  }
}

// The node entry hands tus the request's own node stream. tus 2 takes a web Request, so its
// PATCH body would be the node stream turned into a web stream (srvx) and straight back into a
// node stream (tus's writeToStore): two adapters, a promise and several objects per 64 KiB
// chunk, which cost more CPU than the bytes themselves (profiled: garbage collection and the
// adapters held the web process to ~0.45 of a bare node:http PUT). The node request stands in
// the Request as a never-read marker stream, and writeToStore of PATCH and POST (creation with
// data) is replaced by the same steps on the node stream (@tus/server 2.4.5's BaseHandler).
const nodeBodies = new WeakMap<ReadableStream, IncomingMessage>();

function useNodeBody(request: Request, req: IncomingMessage): void {
  if (req.method !== "PATCH" && req.method !== "POST") return;
  const marker = new ReadableStream();
  nodeBodies.set(marker, req);
  Object.defineProperty(request, "body", { value: marker });
}

type TusContext = { signal: AbortSignal };
type TusBodyHandler = { store: DataStore; writeToStore(body: ReadableStream | null, upload: Upload, maxFileSize: number, context: TusContext): Promise<number> };

/** tus's BaseHandler.writeToStore for a node stream: same abort, error and size-limit handling. */
async function writeNodeBody(store: DataStore, body: Readable, upload: Upload, maxFileSize: number, context: TusContext): Promise<number> {
  if (context.signal.aborted) throw ERRORS.ABORTED;
  // The proxy lets tus stop writing without destroying the request (the client still gets its answer).
  const proxy = new PassThrough();
  let sourceError: unknown;
  const onSourceError = (error: unknown) => {
    sourceError = error;
    body.unpipe(proxy);
    if (!context.signal.aborted) proxy.destroy(error as Error);
  };
  body.on("error", onSourceError);
  const onAbort = () => {
    body.unpipe(proxy);
    if (!proxy.destroyed) proxy.end();
  };
  context.signal.addEventListener("abort", onAbort, { once: true });
  try {
    // pipeline hands the destination function the limiter stream itself and resolves with its result (the new offset).
    const write = (limited: Readable) => store.write(limited, upload.id, upload.offset);
    return (await pipeline(body.pipe(proxy), new StreamLimiter(maxFileSize), write as never)) as unknown as number;
  } catch (error) {
    body.unpipe(proxy);
    const isAbort = error instanceof Error && error.name === "AbortError";
    throw (sourceError !== undefined && error === sourceError) || isAbort ? ERRORS.ABORTED : error;
  } finally {
    body.off("error", onSourceError);
    context.signal.removeEventListener("abort", onAbort);
  }
}

function acceptNodeBodies(server: Server): Server {
  const handlers = (server as unknown as { handlers: Record<"PATCH" | "POST", TusBodyHandler> }).handlers;
  for (const handler of [handlers.PATCH, handlers.POST]) {
    const viaWeb = handler.writeToStore.bind(handler);
    handler.writeToStore = (body, upload, maxFileSize, context) => {
      const node = body ? nodeBodies.get(body) : undefined;
      return node ? writeNodeBody(handler.store, node, upload, maxFileSize, context) : viaWeb(body, upload, maxFileSize, context);
    };
  }
  return server;
}

export function createUploadServer(storage: ImageStorage = getImageStorage()): Server {
  return acceptNodeBodies(new Server({
    path: UPLOAD_PATH,
    datastore: storage.datastore,
    // Relative, so the Location is right behind any proxy; tus clients resolve it against the endpoint.
    relativeLocation: true,
    // Same origin only: tus would otherwise answer every origin with Access-Control-Allow-Origin: *.
    allowedOrigins: [],
    async onIncomingRequest(req, uploadId) {
      if (req.method === "POST") return;
      const { actor, run } = stateOf(req);
      if (run) {
        const offset = req.headers.get("upload-offset");
        const bodyBytes = req.headers.get("content-length");
        const request = { uploadId, method: req.method, offset: offset === null ? null : Number(offset), bodyBytes: bodyBytes === null ? null : Number(bodyBytes) };
        await guarded(req, () => checkCaptureRequest(getAppDb(), run, request));
        return;
      }
      await guarded(req, () => getOwnUpload(getAppDb(), actor, uploadId));
    },
    async onUploadCreate(req, upload) {
      const { actor, run } = stateOf(req);
      if (run) await guarded(req, () => beginCaptureUpload(getAppDb(), run, { uploadId: upload.id, length: upload.size }));
      else await guarded(req, () => beginImageUpload(getAppDb(), actor, { uploadId: upload.id, length: upload.size, metadata: upload.metadata }));
      return {};
    },
    async onUploadFinish(req, upload: Upload) {
      // upload.size is known here, also for a deferred-length upload: its last PATCH declared it.
      const done = await guarded(req, () => finishImageUpload(getAppDb(), upload.id, new Date(), upload.size));
      const { run } = stateOf(req);
      if (done?.moved && run) await guarded(req, () => noteCaptureReceived(getAppDb(), run, { ...done, bytes: upload.size! }));
      return done ? { headers: { "Kiln-Image-Id": done.imageId, "Kiln-Image-Version": String(done.version) } } : {};
    },
  }));
}

const globalForUploads = globalThis as unknown as { kilnUploadServer?: { storage: ImageStorage; server: Server } };

function getUploadServer(): Server {
  const storage = getImageStorage();
  if (globalForUploads.kilnUploadServer?.storage !== storage) globalForUploads.kilnUploadServer = { storage, server: createUploadServer(storage) };
  return globalForUploads.kilnUploadServer.server;
}

function tusError(e: unknown): Response {
  const { status, body } = toErrorBody(e);
  return Response.json(body, { status, headers: { "Tus-Resumable": "1.0.0", "Cache-Control": "no-store" } });
}

type CurrentUserLookup = () => Promise<{ user: import("@/db/schema").UserRow } | null>;

/**
 * The caller of one upload request: a capture run's agent (Authorization: Kiln-Run …), else a
 * person (bearer token or session cookie, looked up by `currentUser`); 401 without either.
 */
async function resolveUploadCaller(headers: Headers, currentUser: CurrentUserLookup): Promise<RequestState> {
  const authorization = headers.get("authorization");
  if (isDeploymentAuthorization(authorization)) {
    const run = await getCaptureDeployment(getAppDb(), authorization);
    return { actor: actorOf(null, getRequestContext(headers)), run };
  }
  const current = await currentUser();
  if (!current) throw new AppError("unauthorized", "Sign in, or send a personal access token (Authorization: Bearer …), to upload images.");
  return { actor: actorOf(current.user, getRequestContext(headers)) };
}

/**
 * One request to /api/uploads[/<id>], whichever server received it. The caller is resolved
 * first, then tus handles the protocol with the hooks above (`runTus`: tus's web or node
 * entry). A refusal from a hook is answered with Kiln's JSON error body and the tus header.
 */
async function handleUpload(req: Request, currentUser: CurrentUserLookup, runTus: (req: Request) => Promise<Response>): Promise<Response> {
  if (req.method === "OPTIONS") return runTus(req);
  let state: RequestState;
  try {
    state = await resolveUploadCaller(req.headers, currentUser);
  } catch (e) {
    return tusError(e);
  }
  const { actor } = state;
  requests.set(req, state);
  const res = await runTus(req);
  if (state.error) {
    const out = tusError(state.error);
    // An aborted PATCH must not leave a half-read request body on a kept-alive connection.
    if (res.headers.get("connection") === "close") out.headers.set("Connection", "close");
    return out;
  }
  if (req.method === "DELETE" && res.status === 204) {
    const id = new URL(req.url).pathname.split("/").pop()!;
    await cancelImageUpload(getAppDb(), actor, id);
  }
  const offset = res.headers.get("upload-offset");
  if (req.method === "HEAD" && res.status === 200 && offset !== null && offset === res.headers.get("upload-length")) {
    // Every byte is stored. A resuming client that hears this sends nothing more (tus-js-client
    // reports success), so if the finish step never ran — the process that stored the last
    // byte died first — it runs now instead of at the worker's next scan. Idempotent.
    const id = new URL(req.url).pathname.split("/").pop()!;
    await finishStoredUpload(getAppDb(), id, { by: "HEAD" }).catch((err) => getLogger("uploads").error({ err, uploadId: id }, "could not finish a stored upload on HEAD; housekeeping will"));
  }
  if (req.method === "POST" && res.status === 201) {
    const id = res.headers.get("location")?.split("/").pop();
    const row = id ? await getImageUploadRow(getAppDb(), id) : undefined;
    if (row) {
      res.headers.set("Kiln-Image-Id", row.imageId);
      res.headers.set("Kiln-Image-Version", String(row.version));
    }
  }
  res.headers.set("Cache-Control", "no-store");
  return res;
}

/** The Next route's entry: the person comes from guard.ts (session cookie or bearer token). */
export async function handleUploadRequest(req: Request, server: Server = getUploadServer()): Promise<Response> {
  return handleUpload(
    req,
    async () => {
      // Loaded here, not at the top: the boot server reaches this module (a capture's finish) and
      // must not load Next.js and Auth.js, which only people's sessions need.
      const { getCurrentUser } = await import("../auth/guard");
      return getCurrentUser();
    },
    (r) => server.handleWeb(r),
  );
}

// tus's own node entry (server.handle) sends its answer itself; Kiln must see the answer first
// (the refusals, cancel, finish on HEAD, the version headers), so the node request is wrapped as
// tus's handle does and its request handler is called directly (@tus/server 2.4.5).
type TusHandler = { handler(req: Request): Promise<Response> };

/**
 * The node:http entry (Kiln's web server mounts it for /api/uploads before Next.js; the boot
 * server can mount it for capture uploads): the same caller rules, hooks and answers as the
 * Next route, without Next's web-stream copy of every PATCH body. The person comes from the
 * headers (lib/auth/request-user.ts), as guard.ts finds them inside Next.
 */
export async function handleUploadNode(req: IncomingMessage, res: ServerResponse, server: Server = getUploadServer()): Promise<void> {
  const request = new NodeRequest({ req, res }) as unknown as Request;
  useNodeBody(request, req);
  const encrypted = Boolean((req.socket as { encrypted?: boolean }).encrypted);
  try {
    const answer = await handleUpload(
      request,
      () => getRequestUser(getAppDb(), request.headers, { encrypted }),
      (r) => (server as unknown as TusHandler).handler(r),
    );
    await sendNodeResponse(res, answer);
  } catch (e) {
    getLogger("uploads").error({ err: e, method: req.method, url: req.url }, "upload request failed");
    if (res.headersSent) return void res.destroy();
    const { status, body } = toErrorBody(e);
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "Tus-Resumable": "1.0.0", "Cache-Control": "no-store", ...(req.complete ? {} : { Connection: "close" }) });
    res.end(text);
  }
}

/** Whether a request's URL (path and query) is the tus endpoint or one of its uploads. */
export function isUploadPath(url: string): boolean {
  const q = url.indexOf("?");
  const pathname = q === -1 ? url : url.slice(0, q);
  return pathname === UPLOAD_PATH || pathname.startsWith(`${UPLOAD_PATH}/`);
}
