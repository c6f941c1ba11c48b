// A git server for post-install tests, on 127.0.0.1: Git's own `git http-backend` (smart HTTP,
// as GitLab, Gitea and GitHub answer) run as a CGI program by a small node:http server, or the
// same repositories as plain static files (dumb HTTP, what `git update-server-info` and any web
// server give). Plus the helpers to make a repository and to run Kiln's rendered post-install
// commands under a test root instead of /.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { POST_INSTALL_PATHS } from "@/boot/post-install";
import { getProcessEnv } from "@/lib/env";

export type GitServer = { url: string; requests: string[]; close(): Promise<void> };

/** Serves every repository under `root` (bare or not) at /<name>; `dumb` serves files only. */
export async function startGitServer(root: string, opts: { dumb?: boolean } = {}): Promise<GitServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://git.test");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (opts.dumb) return void serveFile(root, url.pathname, res);
    const env: Record<string, string> = {
      PATH: getProcessEnv().PATH ?? "/usr/bin:/bin",
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      REMOTE_ADDR: "127.0.0.1",
      SERVER_PROTOCOL: "HTTP/1.1",
    };
    if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
    if (req.headers["content-encoding"]) env.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
    if (req.headers["git-protocol"]) env.GIT_PROTOCOL = String(req.headers["git-protocol"]);
    const cgi = spawn("git", ["http-backend"], { env: env as unknown as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "ignore"] });
    req.pipe(cgi.stdin);
    cgi.stdin.on("error", () => {});
    // CGI answer: header lines ("Status: 200 OK", "Content-Type: …"), a blank line, the body.
    let head = Buffer.alloc(0);
    let headerDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headerDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n") >= 0 ? head.indexOf("\r\n\r\n") : head.indexOf("\n\n");
      if (end < 0) return;
      const sep = head[end] === 13 ? 4 : 2;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
        const i = line.indexOf(":");
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === "status") status = Number.parseInt(v, 10) || 200;
        else headers[k] = v;
      }
      headerDone = true;
      res.writeHead(status, headers);
      res.write(head.subarray(end + sep));
    });
    cgi.on("close", () => {
      if (!headerDone) res.writeHead(502).end("git http-backend gave no answer\n");
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function serveFile(root: string, pathname: string, res: http.ServerResponse): Promise<void> {
  const file = path.join(root, path.normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, ""));
  if (!file.startsWith(root + path.sep)) return void res.writeHead(404).end();
  // A repository with a work tree keeps what a dumb client reads in <name>/.git/.
  const [name, ...rest] = path.relative(root, file).split(path.sep);
  for (const candidate of [file, path.join(root, name ?? "", ".git", ...rest)]) {
    try {
      const body = await fs.readFile(candidate);
      return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    } catch {
      // next candidate
    }
  }
  res.writeHead(404).end();
}

/** A repository at root/<name> with `files` committed on `branch`; returns the commit id. */
export function makeRepo(root: string, name: string, files: Record<string, string>, branch = "main"): string {
  const dir = path.join(root, name);
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", env: { ...getProcessEnv(), GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).trim();
  execFileSync("git", ["init", "-q", "-b", branch, dir]);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "setup");
  // For dumb HTTP: the index files a static server hands out.
  git("update-server-info");
  return git("rev-parse", "HEAD");
}

/**
 * A rendered post-install command with Kiln's fixed paths moved under `root` (one pass, so a
 * path that contains another is moved once): the test runs Kiln's text, not a copy of it.
 */
export function underRoot(command: string, root: string): string {
  const prefixes = [POST_INSTALL_PATHS.runner, POST_INSTALL_PATHS.env, POST_INSTALL_PATHS.unit, "/usr/local/sbin", "/etc/kiln", "/etc/systemd/system"];
  const alternation = prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|");
  return command.replace(new RegExp(`(^|[\\s'>])(${alternation})`, "g"), (_m, pre: string, p: string) => `${pre}${root}${p}`);
}
