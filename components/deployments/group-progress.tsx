"use client";
// A deployment group's page body: one row per host with its run's state, step, bytes written and
// attempts, polled every 2 s while any run is active (each host's own page has the live log);
// "Retry failed hosts" runs the failed and never-started hosts again.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { DeploymentGroupView } from "@/lib/deployments/groups";
import { Alert } from "../ui/alert";
import { Badge, type Tone } from "../ui/badge";
import { Button } from "../ui/button";
import { formatDateTime } from "../ui/format";
import { ApiError, callApi } from "../ui/use-api";
import { Table } from "../ui/table";

const POLL_MS = 2000;

const TONE: Record<DeploymentGroupView["hosts"][number]["state"], Tone> = { pending: "sky", running: "sky", done: "green", failed: "red", cancelled: "amber", not_started: "stone" };

function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${Math.round(n / 1e3)} kB`;
}

export function GroupProgress({ initial }: { initial: DeploymentGroupView }) {
  const queryClient = useQueryClient();
  const key = ["deployment-group", initial.id];
  const group = useQuery({
    queryKey: key,
    queryFn: () => callApi<DeploymentGroupView>(`/api/v1/deployment-groups/${initial.id}`, "GET"),
    initialData: initial,
    // While a run is active, or a failed host still has a retry of Kiln's own coming.
    refetchInterval: (q) => (q.state.data && (q.state.data.counts.active > 0 || q.state.data.hosts.some((h) => h.held && h.state === "failed" && h.attempts < q.state.data!.maxAttempts)) ? POLL_MS : false),
  });
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const g = group.data;

  async function retryFailed() {
    setBusy(true);
    setNotice(null);
    try {
      const after = await callApi<DeploymentGroupView>(`/api/v1/deployment-groups/${g.id}/retry-failed`, "POST");
      queryClient.setQueryData(key, after);
      const refused = after.refused ?? [];
      setNotice(refused.length ? { tone: "error", text: `Not retried: ${refused.map((r) => `${r.name} (${r.reason})`).join("; ")}` } : { tone: "success", text: "The failed hosts are running again." });
    } catch (e) {
      setNotice({ tone: "error", text: e instanceof ApiError ? e.failure.message : (e as Error).message });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="space-y-4" aria-labelledby="group-title">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h1 id="group-title" className="text-2xl font-semibold">
            {g.action === "wipe_disk" ? `Wiping the disks: ${g.what}` : g.action === "install" ? `Installing ${g.what}` : `Deploying ${g.what}`}
          </h1>
          <p className="mt-1 text-sm text-stone-600">
            {g.counts.total} host{g.counts.total === 1 ? "" : "s"}, started {formatDateTime(g.createdAt)}
            {g.userEmail ? ` by ${g.userEmail}` : ""} · up to {g.maxAttempts} run{g.maxAttempts === 1 ? "" : "s"} per host
            {g.reservationId ? " · for a reservation (ready at its start)" : ""}
          </p>
        </div>
        <p className="flex flex-wrap gap-2 text-sm" data-testid="group-counts">
          <Badge tone="green">{g.counts.done} done</Badge>
          <Badge tone="sky">{g.counts.active} running</Badge>
          <Badge tone="red">{g.counts.failed} failed</Badge>
          {g.counts.notStarted ? <Badge tone="stone">{g.counts.notStarted} not started</Badge> : null}
        </p>
      </div>
      {notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}
      {group.isRefetchError ? <p className="text-xs text-amber-700">Could not refresh ({group.error.message}); retrying.</p> : null}
      <Table columns={[{ label: "Host" }, { label: "State" }, { label: "Step" }, { label: "Progress" }, { label: "Runs" }, { label: "Why it failed" }]}>
        {g.hosts.map((h) => (
          <tr key={h.hostId} data-testid="group-host" data-host={h.name}>
            <td className="px-4 py-2 font-mono">
              {h.held ? (
                <Link href={`/hosts/${h.hostId}`} className="text-kiln-700 hover:underline" title="The host's page: this run's steps and live log">
                  {h.name}
                </Link>
              ) : (
                h.name
              )}
            </td>
            <td className="px-4 py-2">
              <Badge tone={TONE[h.state]} testId="group-host-state">
                {h.state.replace("_", " ")}
              </Badge>
            </td>
            <td className="px-4 py-2 text-stone-700">{h.step ?? "—"}</td>
            <td className="px-4 py-2">
              {h.progress.percent !== null ? (
                <span className="inline-flex items-center gap-2 text-xs text-stone-600">
                  <span role="progressbar" aria-label={`${h.name} progress`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={h.progress.percent} className="inline-block h-1.5 w-24 overflow-hidden rounded-full bg-stone-200">
                    <span className="block h-full bg-sky-500" style={{ width: `${h.progress.percent}%` }} />
                  </span>
                  {bytes(h.progress.bytesWritten)} of {bytes(h.progress.totalBytes ?? 0)}
                </span>
              ) : h.progress.bytesWritten > 0 ? (
                <span className="text-xs text-stone-600">{bytes(h.progress.bytesWritten)}</span>
              ) : (
                <span className="text-stone-400">—</span>
              )}
            </td>
            <td className="px-4 py-2 text-stone-700" data-testid="group-host-attempts">
              {h.attempts} of {g.maxAttempts}
            </td>
            <td className="max-w-md px-4 py-2 text-xs text-stone-700">{h.state === "done" ? "" : (h.failureReason ?? "")}</td>
          </tr>
        ))}
      </Table>
      <div className="flex flex-wrap items-center gap-3">
        <Button variant="secondary" onClick={retryFailed} disabled={busy || !g.canRetryFailed}>
          {busy ? "Retrying…" : "Retry failed hosts"}
        </Button>
        <span className="text-xs text-stone-500">Kiln retries a failed host by itself until it has had {g.maxAttempts} runs; this runs it again now, whatever it has used.</span>
      </div>
    </section>
  );
}
