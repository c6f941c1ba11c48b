// The render pool with real worker threads: results and errors as in-thread, and what a
// runaway template does to it (stopped at the deadline or the heap limit, replaced, the
// calling thread never blocked).
import { afterAll, describe, expect, it } from "vitest";
import { renderTemplate, TemplateError } from "@/boot/template";
import { compileInPool, renderInPool, renderPoolStats, stopRenderPool } from "./render-pool";

afterAll(() => stopRenderPool());

const ctx = { host: { name: "node-07" }, vars: { packages: ["vim", "curl"] } };
const NORMAL = "#!ipxe\necho {{ host.name }}\n{% for p in vars.packages %}{{ loop.index }}={{ p|upper }}\n{% endfor %}";
/** Engine budgets switched off, so only the pool's own limits can stop these. */
const UNBOUNDED = { maxSteps: 1e15, maxOutputBytes: 1e9, maxListItems: 1e9, timeoutMs: 600_000 };
const SPIN = "line 1\n{% for i in range(1000000000) %}{% for j in range(1000000000) %}{% endfor %}{% endfor %}";
/**
 * Holds ever more distinct 1 MB strings. Each allocation stays within the engine's own size caps,
 * as every allocation a real template can make does; only their sum outgrows the worker's heap.
 * (A single allocation of hundreds of MB, which the caps forbid, is not what resourceLimits is
 * for: V8 may abort the whole process on it instead of stopping the worker.)
 */
const MEMORY_HOG = "{% set big = 'x' * 1000000 %}{% set l = [] %}{% for i in range(100000) %}{% set l = l + [(big ~ i)|upper] %}{% endfor %}{{ l|length }}";
const HOG = "{% set l = [1] %}{% for i in range(40) %}{% set l = l + l %}{% if loop.last %}{{ l|length }}{% endif %}{% endfor %}";

async function caught(p: Promise<unknown>): Promise<TemplateError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error("expected a TemplateError");
}

/** The longest wait of this thread's event loop while `work` runs (1 ms ticks). */
async function maxLoopLag<T>(work: Promise<T>): Promise<{ lag: number; result: PromiseSettledResult<T> }> {
  let lag = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(lag, now - last - 1);
    last = now;
  }, 1);
  const [result] = await Promise.allSettled([work]);
  clearInterval(timer);
  return { lag, result };
}

describe("render pool", () => {
  it("renders like the engine does in-thread, and reports errors with line and column", async () => {
    expect(await renderInPool(NORMAL, ctx)).toBe(renderTemplate(NORMAL, ctx));
    const bad = await caught(renderInPool("ok\n{{ vars.nope.deeper }}", ctx));
    // An undefined name: the position of "nope", and the closest names, carried across the thread.
    expect([bad.line, bad.column, bad.kind]).toEqual([2, 9, "undefined"]);
    const typo = await caught(renderInPool("{{ host.nmae }}", ctx));
    expect(typo.reason).toMatch(/^host.nmae is undefined — did you mean host.name/);
    expect(typo.suggestions[0]).toBe("host.name");
    const syntax = await caught(compileInPool("a\nb {% if %}"));
    expect([syntax.line, syntax.kind]).toEqual([2, "syntax"]);
    await expect(compileInPool(NORMAL)).resolves.toBeUndefined();
  });

  it("stops a render at its wall-clock deadline, names where it was, and recovers", async () => {
    const started = performance.now();
    const { lag, result } = await maxLoopLag(renderInPool(SPIN, {}, { limits: UNBOUNDED, deadlineMs: 700 }));
    const err = (result as PromiseRejectedResult).reason as TemplateError;
    expect(err).toBeInstanceOf(TemplateError);
    expect(err.message).toMatch(/took longer than 700 ms to render and was stopped \(line 2, column \d+\)/);
    expect(err.kind).toBe("limit");
    expect(performance.now() - started).toBeLessThan(3000);
    // Far below the render's own time: the thread was never blocked by it (the margin is for a shared, busy machine).
    expect(lag).toBeLessThan(250);
    expect(await renderInPool(NORMAL, ctx)).toContain("2=CURL");
    expect(renderPoolStats().killedForTime).toBeGreaterThanOrEqual(1);
  });

  it("a template that would hold gigabytes is stopped by the engine's budget far below the worker's heap limit", async () => {
    // Only the clock is lifted, so the budget (not the deadline) must stop it. Reaching the
    // heap limit itself is not tested: V8 may abort the whole process there (see RENDER_HEAP_MB).
    const rssBefore = process.memoryUsage().rss;
    const { lag, result } = await maxLoopLag(renderInPool(MEMORY_HOG, {}, { limits: { timeoutMs: 600_000 }, deadlineMs: 20_000 }));
    const err = (result as PromiseRejectedResult).reason as TemplateError;
    expect(err).toBeInstanceOf(TemplateError);
    expect(err.kind).toBe("limit");
    expect(err.message).toMatch(/too much work/);
    // Far below the render's own time: the thread was never blocked by it (the margin is for a shared, busy machine).
    expect(lag).toBeLessThan(250);
    // The hog would hold 100 GB; this process grew by far less than that.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024);
    expect(await renderInPool(NORMAL, ctx)).toContain("1=VIM");
    expect(renderPoolStats().killedForMemory).toBe(0);
  }, 30_000);

  it("with the default limits, hostile templates end as template errors while normal ones still render", async () => {
    const hostile = [SPIN, HOG, "{{ 'x' * 1000000000 }}", "{{ " + "(".repeat(5000) + " }}", "{% set s = ' ' * 300000 ~ 'x' %}{% for i in range(100000) %}{% set t = s.strip(' ') %}{% endfor %}"];
    const results = await Promise.allSettled([...hostile.map((s) => renderInPool(s, {})), renderInPool(NORMAL, ctx)]);
    for (const r of results.slice(0, hostile.length)) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TemplateError);
    expect(results.at(-1)).toMatchObject({ status: "fulfilled", value: expect.stringContaining("node-07") });
  });

  it("measures: p50 of a normal template through the pool vs in-thread", async () => {
    const builtin = (await import("@/boot/templates")).BUILTIN_TEMPLATES.find((t) => t.key === "debian-12-preseed")!;
    const source = (await import("@/boot/templates")).readBuiltinSource(builtin);
    const context = { host: { name: "n1", macs: ["52:54:00:00:00:01"], interface: { mac: "52:54:00:00:00:01", name: "eno1" }, facts: {} }, vars: { disk: "sda" }, user: { name: "R", email: "r@x", ssh_keys: ["ssh-ed25519 AAAA r@x"] }, base_url: "http://k", deployment: { id: "d", action: "install", token: "t", urls: { done: "http://k/d" } }, kiln: {} };
    const p50 = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const inThread: number[] = [];
    const viaPool: number[] = [];
    for (let i = 0; i < 200; i++) {
      let t = performance.now();
      renderTemplate(source, context);
      inThread.push(performance.now() - t);
      t = performance.now();
      await renderInPool(source, context);
      viaPool.push(performance.now() - t);
    }
    console.log(`render p50 (debian-12-preseed): in-thread ${p50(inThread).toFixed(3)} ms, pool ${p50(viaPool).toFixed(3)} ms`);
    expect(p50(viaPool)).toBeLessThan(50);
  });
});
