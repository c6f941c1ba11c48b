// Calls App Router route handlers in-process, the way Next does for a request: inside the
// request scope that `headers()` (and Auth.js's `auth()`, which reads the cookie through it)
// require. Only the two stores those APIs read are provided; nothing else of Next runs, so
// routing itself is left to the e2e specs.
//
// Import this module before any route module: it exposes AsyncLocalStorage on globalThis,
// which Next's storage singletons look for when they are first loaded.
import "next/dist/server/node-environment-baseline";
import { workAsyncStorage } from "next/dist/server/app-render/work-async-storage.external";
import { workUnitAsyncStorage } from "next/dist/server/app-render/work-unit-async-storage.external";
import { HeadersAdapter } from "next/dist/server/web/spec-extension/adapters/headers";

export const TEST_ORIGIN = "http://kiln.test";

type Handler = (req: Request, ctx: never) => Promise<Response>;

export type CallOptions = {
  /** A bearer token; sent as `Authorization: Bearer …`. */
  token?: string;
  /** Path parameters, as Next would pass them (`{ id: "…" }`). */
  params?: Record<string, string>;
  /** A value sent as JSON (with its content type), or a raw string/Buffer sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
};

export type CallResult<T = unknown> = { status: number; body: T; headers: Headers };

/** Runs `fn` inside a request scope for `req`, as Next's app-route module does. */
export function inRequestScope<T>(req: Request, fn: () => Promise<T>): Promise<T> {
  const url = new URL(req.url);
  const workStore = { route: url.pathname, page: url.pathname, forceStatic: false, dynamicShouldError: false };
  const requestStore = {
    type: "request",
    phase: "action",
    headers: HeadersAdapter.seal(new Headers(req.headers)),
    url: { pathname: url.pathname, search: url.search },
  };
  // Only the fields headers() reads are filled; the casts stand in for Next's full store types.
  return workAsyncStorage.run(workStore as never, () => workUnitAsyncStorage.run(requestStore as never, fn));
}

export function buildRequest(method: string, pathAndQuery: string, options: CallOptions = {}): Request {
  const headers = new Headers(options.headers);
  if (options.token !== undefined) headers.set("authorization", `Bearer ${options.token}`);
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === "string" || Buffer.isBuffer(options.body)) {
      body = options.body as BodyInit;
    } else {
      body = JSON.stringify(options.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
  }
  return new Request(`${TEST_ORIGIN}${pathAndQuery}`, { method, headers, body });
}

/** One request through a route handler; the body is parsed as JSON when it is JSON. */
export async function callRoute<T = unknown>(handler: Handler, method: string, pathAndQuery: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const req = buildRequest(method, pathAndQuery, options);
  const ctx = { params: Promise.resolve(options.params ?? {}) };
  const res = await inRequestScope(req, () => handler(req, ctx as never));
  const text = await res.text();
  const isJson = res.headers.get("content-type")?.includes("application/json");
  return { status: res.status, body: (isJson && text ? JSON.parse(text) : text) as T, headers: res.headers };
}
