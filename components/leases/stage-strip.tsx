"use client";
// The staged end of a lease as a strip of steps (lib/leases/staged-end.ts): Warned → Grace
// (until …, with the Capture button) → Capturing → Power off/wipe → Back in pool. Each step
// reached shows its time; the current one is highlighted (aria-current="step"). A pool without
// a grace period shows no Grace step unless the lease reached it.
import { Button } from "../ui/button";
import { formatDateTime } from "../ui/format";
import type { LeaseView } from "./types";

type Stage = NonNullable<LeaseView["end"]["stage"]>;

const LABELS: Record<Stage, string> = {
  warned: "Warned",
  grace: "Grace",
  capturing: "Capturing",
  releasing: "Power off/wipe",
  returned: "Back in pool",
};
const ORDER: Stage[] = ["warned", "grace", "capturing", "releasing", "returned"];

export function StageStrip({ lease, onCapture }: { lease: LeaseView; onCapture?: () => void }) {
  const end = lease.end;
  const reachedAt = new Map<Stage, string>();
  for (const s of end.stages) reachedAt.set(s.stage, s.at);
  const current = end.stage;
  const currentIndex = current ? ORDER.indexOf(current) : -1;
  const steps = ORDER.filter((s) => (s !== "grace" || end.graceMinutes > 0 || reachedAt.has("grace")) && (s !== "capturing" || end.captures.length > 0 || reachedAt.has("capturing") || currentIndex < ORDER.indexOf("releasing")));
  const inGrace = lease.state === "active" && (current === "grace" || current === "capturing") && end.graceEndsAt !== null;
  const captureNote = end.captures[0] ? `${end.captures[0].state}${end.captures[0].imageVersion ? ` · v${end.captures[0].imageVersion}` : ""}` : null;
  return (
    <div data-testid="stage-strip" data-stage={current ?? "none"} className="mt-3 rounded-md border border-stone-100 bg-stone-50 px-3 py-2">
      <p className="mb-1.5 text-xs font-medium uppercase tracking-wide text-stone-500">End of the lease</p>
      <ol className="flex flex-wrap items-stretch gap-1.5 text-xs" aria-label="Stages of the lease's end">
        {steps.map((s, i) => {
          const index = ORDER.indexOf(s);
          const isCurrent = s === current;
          const done = currentIndex > index && reachedAt.has(s);
          const at = reachedAt.get(s);
          const tone = isCurrent ? "border-kiln-500 bg-kiln-50 text-kiln-800 font-semibold" : done ? "border-stone-300 bg-white text-stone-700" : "border-dashed border-stone-300 text-stone-400";
          return (
            <li key={s} className="flex items-center gap-1.5">
              {i > 0 ? <span aria-hidden className="text-stone-400">→</span> : null}
              <span data-testid={`stage-${s}`} aria-current={isCurrent ? "step" : undefined} className={`rounded-md border px-2 py-1 ${tone}`}>
                {LABELS[s]}
                {s === "grace" && end.graceEndsAt ? <span className="font-normal"> until {formatDateTime(end.graceEndsAt)}</span> : null}
                {s === "capturing" && captureNote ? <span className="font-normal"> ({captureNote})</span> : null}
                {at ? <span className="block font-normal text-stone-500">{formatDateTime(at)}</span> : null}
              </span>
            </li>
          );
        })}
      </ol>
      {inGrace && onCapture ? (
        <div className="mt-2 flex flex-wrap items-center gap-2 text-xs text-stone-600">
          <span>The lease has ended. Until {formatDateTime(end.graceEndsAt)} you can only capture the disk into an image (or release now); then the machines are powered off and wiped.</span>
          <Button variant="primary" className="py-1" onClick={onCapture}>
            Capture disk to image…
          </Button>
        </div>
      ) : null}
    </div>
  );
}
