"use client";
// One provisioning run as a timeline: its steps (with deadlines and reasons), the progress
// of the step that moves data (bar, rate, ETA) and its log.
import { useEffect, useRef } from "react";
import { Badge, type Tone } from "../ui/badge";
import { formatBytes, formatDateTime, formatDuration } from "../ui/format";
import { useNow } from "../ui/use-now";
import type { DeploymentView } from "./types";

const STEP_TONE: Record<DeploymentView["steps"][number]["state"], Tone> = {
  pending: "stone",
  running: "sky",
  done: "green",
  failed: "red",
  skipped: "stone",
  cancelled: "amber",
};

const STEP_MARK: Record<DeploymentView["steps"][number]["state"], string> = {
  pending: "○",
  running: "◔",
  done: "✓",
  failed: "✕",
  skipped: "–",
  cancelled: "■",
};

export const DEPLOYMENT_STATE_TONE: Record<DeploymentView["state"], Tone> = { pending: "sky", running: "sky", done: "green", failed: "red", cancelled: "amber" };

export function ProgressBar({ progress, active }: { progress: DeploymentView["progress"]; active: boolean }) {
  const { bytesWritten, totalBytes, rateBytesPerSecond, etaSeconds } = progress;
  if (!totalBytes && !bytesWritten) return null;
  const percent = totalBytes ? Math.min(100, Math.round((bytesWritten / totalBytes) * 100)) : null;
  return (
    <div className="space-y-1">
      <div
        role="progressbar"
        aria-label="Bytes written"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        data-testid="deploy-progress"
        className="h-2.5 w-full overflow-hidden rounded-full bg-stone-100"
      >
        <div className={`h-full rounded-full transition-[width] duration-500 ${active ? "bg-kiln-500" : "bg-stone-400"}`} style={{ width: `${percent ?? 100}%` }} />
      </div>
      <p className="text-xs text-stone-600" data-testid="deploy-progress-text">
        {formatBytes(bytesWritten)}
        {totalBytes ? ` of ${formatBytes(totalBytes)} (${percent}%)` : ""}
        {active && rateBytesPerSecond ? ` · ${formatBytes(rateBytesPerSecond)}/s` : ""}
        {active && etaSeconds ? ` · about ${formatDuration(etaSeconds * 1000)} left` : ""}
      </p>
    </div>
  );
}

export function DeploymentTimeline({ run }: { run: DeploymentView }) {
  const now = useNow();
  const active = run.state === "pending" || run.state === "running";
  const logRef = useRef<HTMLPreElement>(null);
  // Follow the log's end as lines arrive, unless the reader scrolled up.
  useEffect(() => {
    const el = logRef.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [run.logs.length]);

  return (
    <div className="space-y-4">
      <ol className="space-y-2" data-testid="run-steps">
        {run.steps.map((s) => (
          <li key={s.name} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 text-sm" data-step={s.name} data-state={s.state}>
            <span aria-hidden className={`w-4 text-center ${s.state === "failed" ? "text-red-600" : s.state === "done" ? "text-green-700" : "text-stone-500"}`}>
              {STEP_MARK[s.state]}
            </span>
            <span className={s.state === "pending" || s.state === "skipped" ? "text-stone-500" : "font-medium text-stone-900"}>{s.label}</span>
            <Badge tone={STEP_TONE[s.state]}>{s.state}</Badge>
            {s.state === "running" && s.timeoutAt && now !== null ? (
              <span className="text-xs text-stone-500">deadline in {formatDuration(new Date(s.timeoutAt).getTime() - now)}</span>
            ) : null}
            {s.state === "running" && !s.timeoutAt ? <span className="text-xs text-stone-500">{s.message ?? "waiting"}</span> : null}
            {/* What the power driver said: with manual power, the ask to power-cycle the machine by hand. */}
            {s.state === "done" && s.message && (s.name === "power_on" || s.name === "power_off") ? (
              <p className="basis-full pl-7 text-sm text-stone-700" data-testid={`step-message-${s.name}`}>
                {s.message}
              </p>
            ) : null}
            {s.finishedAt && s.startedAt && s.state === "done" ? (
              <span className="text-xs text-stone-500">{formatDuration(new Date(s.finishedAt).getTime() - new Date(s.startedAt).getTime())}</span>
            ) : null}
            {s.failureReason ? <p className="basis-full pl-7 text-sm text-red-700">{s.failureReason}</p> : null}
          </li>
        ))}
      </ol>
      <ProgressBar progress={run.progress} active={active} />
      <div>
        <p className="mb-1 text-xs font-medium uppercase tracking-wide text-stone-500">
          Log{run.logCount > run.logs.length ? ` (the last ${run.logs.length} of ${run.logCount} lines)` : ""}
        </p>
        <pre ref={logRef} data-testid="run-log" className="max-h-64 overflow-auto rounded-md bg-stone-900 p-3 font-mono text-xs leading-5 text-stone-100">
          {run.logs.length === 0
            ? "Nothing logged yet."
            : run.logs.map((l) => `${formatDateTime(l.at).slice(11, 16)} ${l.source.padEnd(5)} ${l.line}`).join("\n")}
        </pre>
      </div>
      {run.console?.text ? (
        <div>
          <p className="mb-1 text-xs font-medium uppercase tracking-wide text-stone-500">Console (last lines, as of {formatDateTime(run.console.updatedAt)})</p>
          <pre data-testid="run-console" className="max-h-64 overflow-auto whitespace-pre-wrap rounded-md bg-stone-900 p-3 font-mono text-xs leading-5 text-stone-100">
            {run.console.text}
          </pre>
        </div>
      ) : null}
    </div>
  );
}
