// For API specs: tokens without using up the admin's sign-in budget (the CLI, as an operator
// would), researchers registered through the real mail flow, a thin fetch wrapper, and a
// direct connection to the running embedded PostgreSQL for checks the API cannot make.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { request as playwrightRequest } from "@playwright/test";
import postgres from "postgres";
import { getProcessEnv } from "../../lib/env";
import { startEmbeddedPostgres } from "../../lib/runtime/embedded-postgres";
import { linkIn, waitForMail } from "./mail";
import { ADMIN, PASSWORD, readState, uniqueEmail } from "./state";

const exec = promisify(execFile);

export type ApiResult<T = any> = { status: number; body: T };

/** `npm run kiln -- …` against the e2e server's data directory (it attaches to the running database). */
export async function kilnCli(args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...getProcessEnv(), KILN_DATA_DIR: readState().dataDir, LOG_LEVEL: "warn" };
  delete env.DATABASE_URL;
  const { stdout } = await exec("npm", ["run", "--silent", "kiln", "--", ...args], { env });
  return stdout;
}

/** A personal access token for the e2e administrator, made with the CLI (the token is the last line). */
export async function adminToken(name = "e2e-api"): Promise<string> {
  const out = await kilnCli(["token", "create", "--email", ADMIN.email, "--name", name]);
  return out.trim().split("\n").pop()!;
}

/** One JSON request; `body` is sent as JSON. */
export async function api<T = any>(token: string | null, method: string, urlPath: string, body?: unknown): Promise<ApiResult<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${readState().baseURL}${urlPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get("content-type")?.includes("application/json") && text ? JSON.parse(text) : text) as T };
}

/** Fails with the answer in the message when the status is not the expected one. */
export async function apiOk<T = any>(token: string | null, method: string, urlPath: string, body: unknown, status: number): Promise<T> {
  const res = await api<T>(token, method, urlPath, body);
  if (res.status !== status) throw new Error(`${method} ${urlPath}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * A researcher who registered, confirmed the mailed link and signed in, with `tokens`
 * personal access tokens (created over the session, as the profile page does).
 */
export async function registerResearcher(prefix: string, tokens = 1): Promise<{ email: string; tokens: string[] }> {
  const { baseURL } = readState();
  const email = uniqueEmail(prefix);
  const ctx = await playwrightRequest.newContext({ baseURL });
  try {
    const registered = await ctx.post("/api/account/register", { data: { email, password: PASSWORD } });
    if (registered.status() !== 202) throw new Error(`register ${email}: ${registered.status()} ${await registered.text()}`);
    const link = linkIn(await waitForMail(email, "Confirm your email"), "/verify/");
    const verified = await ctx.post("/api/account/verify", { data: { token: link.split("/").pop() } });
    if (!verified.ok()) throw new Error(`verify ${email}: ${verified.status()} ${await verified.text()}`);
    const signedIn = await ctx.post("/api/session", { data: { login: email, password: PASSWORD } });
    if (!signedIn.ok()) throw new Error(`sign in ${email}: ${signedIn.status()} ${await signedIn.text()}`);
    const out: string[] = [];
    for (let i = 0; i < tokens; i++) {
      const created = await ctx.post("/api/account/tokens", { data: { name: `t${i}` } });
      if (created.status() !== 201) throw new Error(`token for ${email}: ${created.status()} ${await created.text()}`);
      out.push(((await created.json()) as { token: string }).token);
    }
    return { email, tokens: out };
  } finally {
    await ctx.dispose();
  }
}

/** A client on the e2e server's embedded PostgreSQL; `end()` it when done. */
export async function connectDatabase(): Promise<postgres.Sql> {
  const pg = await startEmbeddedPostgres(path.join(readState().dataDir, "postgres"), { attachIfRunning: true });
  return postgres(pg.url, { max: 2, onnotice: () => {} });
}
