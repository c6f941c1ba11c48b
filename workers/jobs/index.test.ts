// The worker's registry against the contracts in lib/<domain>/jobs.ts: the web side enqueues by
// a contract, so a handler attached under another name or schema would never receive its jobs.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { JOBS } from "./index";

const JOB_FILES = readdirSync(__dirname).filter((f) => f.endsWith(".ts") && f !== "index.ts" && !f.endsWith(".test.ts")).map((f) => f.slice(0, -3));

describe("workers/jobs", () => {
  it("registers every job file once, under a name of its own", () => {
    expect(JOBS).toHaveLength(JOB_FILES.length);
    expect(new Set(JOBS.map((j) => j.name)).size).toBe(JOBS.length);
  });

  it.each(JOB_FILES)("%s.ts exports the name and schema its handler is registered under", async (file) => {
    const mod = (await import(/* @vite-ignore */ path.join(__dirname, `${file}.ts`))) as { name: string; schema: unknown };
    const job = JOBS.find((j) => j.name === mod.name);
    expect(job, `no registered job named ${mod.name}`).toBeDefined();
    expect(job!.schema).toBe(mod.schema);
    expect(file).toBe(mod.name);
  });

  it("is never imported from lib/ (contracts live in lib/<domain>/jobs.ts)", () => {
    const lib = path.resolve(__dirname, "../../lib");
    const offenders = (readdirSync(lib, { recursive: true }) as string[])
      .filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f))
      .filter((f) => /from\s+["'](@\/workers\/|(\.\.\/)+workers\/)/.test(readFileSync(path.join(lib, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});
