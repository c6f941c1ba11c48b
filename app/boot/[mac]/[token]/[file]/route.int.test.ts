// The agent's report route refuses what it cannot take before looking anything up: names
// that exist only on Object.prototype, bodies past the limit (counted as they stream), JSON
// nested too deep, text with NUL or unpaired surrogates, and MACs whose escapes do not decode.
import { callRoute } from "@/test/harness/route-handler";
import { describe, expect, it } from "vitest";
import { MAX_JSON_BYTES } from "@/lib/http/body";
import { useTestDb } from "@/test/harness/database";
import * as route from "./route";

await useTestDb();

const MAC = "52:54:00:00:00:01";

function report(file: string, body?: unknown, headers: Record<string, string> = {}, mac = MAC) {
  return callRoute<string>(route.POST, "POST", `/boot/${mac}/tok/${file}`, { params: { mac, token: "tok", file }, body, headers });
}

describe("agent report route", () => {
  it("looks report names up as own keys: constructor, toString, __proto__ name nothing (404, never 200 or 500)", async () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      const res = await report(name, { lines: ["x"] });
      expect(res.status, name).toBe(404);
    }
  });

  it("refuses a chunked body past the limit with 413, without reading it all", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 64 * 1024;
        if (pulled > 256 * 1024 * 1024) c.close();
        else c.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const req = new Request(`http://kiln.test/boot/${MAC}/tok/log`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
    const res = await route.POST(req, { params: Promise.resolve({ mac: MAC, token: "tok", file: "log" }) } as never);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(2 * MAX_JSON_BYTES);
  });

  it("refuses NUL, unpaired surrogates and deep nesting with a 400 that says where", async () => {
    const json = { "content-type": "application/json" };
    const nul = await report("log", '{"lines":["ok","a\\u0000b"]}', json);
    expect(nul).toMatchObject({ status: 400, body: expect.stringMatching(/lines\.1 contains a NUL byte/) });
    expect((await report("progress", '{"message":"\\udead"}', json)).body).toMatch(/message contains an unpaired UTF-16 surrogate/);
    expect((await report("log", "plain text with a \u0000 in it")).body).toMatch(/report's text contains a NUL byte/);
    expect((await report("inventory", "[".repeat(100_000), json)).body).toMatch(/nested more than 32 levels/);
  });

  it("answers a MAC whose escapes do not decode with 404, not a URIError", async () => {
    expect((await report("log", "x", {}, "%E0%A4%A")).status).toBe(404);
  });
});
