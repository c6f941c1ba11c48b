// The render pool's worker thread (./render-pool.ts): compiles and renders one template at a
// time, away from the web thread, under the heap limit the pool gives it. Imports are
// relative (no "@/" alias) because this file is loaded by path at run time, outside any bundle.
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { compileTemplate, renderCompiled, setPositionProbe, TemplateError } from "../../boot/template/index";
import type { RenderJob, RenderReply } from "./render-protocol";

const port = parentPort!;

// Renders yield the CPU to the web thread and the database: on Linux a thread has its own
// nice value, set through its thread id (/proc/thread-self names it). Elsewhere this is skipped.
try {
  setPriority(Number(path.basename(readlinkSync("/proc/thread-self"))), 10);
} catch {
  /* not Linux, or not permitted: renders run at normal priority */
}
// Slot 0: the source offset the render last reached, read by the pool if it has to stop us.
const probe = new Int32Array(workerData.probe as SharedArrayBuffer);
setPositionProbe(probe);

port.on("message", (job: RenderJob) => {
  probe[0] = 0;
  let reply: RenderReply;
  try {
    const compiled = compileTemplate(job.source);
    reply = job.op === "compile" ? { id: job.id, ok: true, output: "" } : { id: job.id, ok: true, output: renderCompiled(compiled, job.context ?? {}, job.limits) };
  } catch (e) {
    const te = e instanceof TemplateError ? e : new TemplateError(`The template could not be rendered: ${(e as Error).message}`, 1, 1, "render");
    reply = { id: job.id, ok: false, error: { message: te.reason, line: te.line, column: te.column, kind: te.kind, suggestions: te.suggestions, missing: te.missing } };
  }
  port.postMessage(reply);
});

port.postMessage({ ready: true });
