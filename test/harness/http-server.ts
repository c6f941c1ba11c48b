// A real HTTP server in the test process that hands each request to a route handler the way
// Next does (a web Request with a streaming body, inside the request scope headers() needs),
// so tests can drop connections mid-request, resume, and "restart" the server: close it and
// mount a fresh handler on the same port.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { CLIENT_IP_HEADER } from "@/lib/http/context";
import { inRequestScope } from "./route-handler";

export type WebHandler = (req: Request) => Promise<Response>;

export type RouteServer = {
  url: string;
  port: number;
  /** Swaps the handler (a "restart" of the application behind the same port). */
  setHandler(handler: WebHandler): void;
  /** Stops listening and cuts every open connection, as a killed process would. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(handler?: WebHandler): Promise<void>;
  close(): Promise<void>;
};

function toWebRequest(req: http.IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  headers.set(CLIENT_IP_HEADER, (req.socket.remoteAddress ?? "").replace(/^::ffff:/, ""));
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(`${origin}${req.url}`, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
    // @ts-expect-error Node's fetch needs this for a streaming request body.
    duplex: "half",
  });
}

async function sendWebResponse(res: http.ServerResponse, web: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  web.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(web.status, headers);
  if (!web.body) return void res.end();
  await new Promise<void>((resolve) => {
    const body = Readable.fromWeb(web.body as never);
    body.on("error", () => res.destroy());
    res.on("close", () => {
      body.destroy();
      resolve();
    });
    body.pipe(res);
  });
}

export async function startRouteServer(initial: WebHandler, port = 0): Promise<RouteServer> {
  let handler = initial;
  let server: http.Server;
  const listen = (p: number) =>
    new Promise<http.Server>((resolve, reject) => {
      const s = http.createServer((req, res) => {
        const origin = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
        const web = toWebRequest(req, origin);
        inRequestScope(web, () => handler(web))
          .then((out) => sendWebResponse(res, out))
          .catch((err) => {
            if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
            res.end(String(err));
          });
      });
      s.keepAliveTimeout = 1000;
      s.once("error", reject);
      s.listen(p, "127.0.0.1", () => resolve(s));
    });
  server = await listen(port);
  const actualPort = (server.address() as AddressInfo).port;
  const kill = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    setHandler(h) {
      handler = h;
    },
    kill,
    async restart(h) {
      if (h) handler = h;
      server = await listen(actualPort);
    },
    close: kill,
  };
}
