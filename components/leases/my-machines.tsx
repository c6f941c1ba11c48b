"use client";
// The researcher's live list of leases: polled every few seconds, so a lease made
// elsewhere (the API, a colleague's hand-over, an admin's allocation) appears without reload.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { CopyButton } from "../images/copy-button";
import { Alert } from "../ui/alert";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { formatDateTime } from "../ui/format";
import { callApi } from "../ui/use-api";
import { PowerBadge } from "../power/power-badge";
import { usePowerStates } from "../power/use-power";
import type { PowerView } from "@/lib/power/types";
import { DeployGroupDialog } from "../deployments/deploy-group-dialog";
import { GetMachinesDialog } from "./get-machines-dialog";
import { ExtendLeaseDialog, HandOverLeaseDialog, ReleaseLeaseDialog } from "./lease-dialogs";
import { TimeLeft } from "./time-left";
import { CaptureDiskDialog } from "./capture-dialog";
import { StageStrip } from "./stage-strip";
import { heldHosts, type LeasePage, type LeaseView, type PoolOption, type ProjectOption } from "./types";
import { Table } from "../ui/table";

const MY_LEASES_URL = "/api/v1/leases?scope=mine&per_page=100";
const MY_LEASES_KEY = ["leases", "mine"];
const POLL_MS = 5000;

/** `captureLeaseId`: the lease whose capture dialog opens at once (the reminder mail's link, /?capture=<lease>). */
export function MyMachines({ initial, pools, projects, captureLeaseId }: { initial: LeasePage; pools: PoolOption[]; projects: ProjectOption[]; captureLeaseId?: string }) {
  const queryClient = useQueryClient();
  const leases = useQuery({
    queryKey: MY_LEASES_KEY,
    queryFn: () => callApi<LeasePage>(MY_LEASES_URL, "GET"),
    initialData: initial,
    refetchInterval: POLL_MS,
  });
  const [getOpen, setGetOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = (message: string) => {
    setNotice(message);
    void queryClient.invalidateQueries({ queryKey: ["leases"] });
    void queryClient.invalidateQueries({ queryKey: ["pools"] });
  };
  const active = leases.data.data.filter((l) => l.state === "active");
  // Ended leases still on their way back (waiting for a capture, being wiped) keep their stage strip.
  const ending = leases.data.data.filter((l) => l.state !== "active" && (l.end.stage === "capturing" || l.end.stage === "releasing"));
  const past = leases.data.data.filter((l) => l.state !== "active" && !ending.includes(l));

  // Server push: while a held host has a run in progress, its live feed (SSE, the one the host
  // page follows) refreshes the cards as each step and progress report happens; the poll
  // above remains the fallback.
  const runningHostIds = active
    .flatMap((l) => heldHosts(l).filter((h) => h.run && (h.run.state === "pending" || h.run.state === "running")).map((h) => h.id))
    .sort()
    .join(",");
  useEffect(() => {
    if (!runningHostIds) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sources = runningHostIds.split(",").map((id) => {
      const source = new EventSource(`/api/v1/hosts/${id}/events`);
      source.onmessage = () => {
        timer ??= setTimeout(() => {
          timer = undefined;
          void queryClient.invalidateQueries({ queryKey: MY_LEASES_KEY });
        }, 300);
      };
      return source;
    });
    return () => {
      sources.forEach((s) => s.close());
      if (timer) clearTimeout(timer);
    };
  }, [runningHostIds, queryClient]);
  const poolsById = new Map(pools.map((p) => [p.id, p]));
  const power = usePowerStates(active.flatMap((l) => heldHosts(l).map((h) => h.id)));
  const canLease = projects.length > 0;

  return (
    <section aria-labelledby="my-machines" className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 id="my-machines" className="text-lg font-semibold">
            My machines
          </h2>
          <p className="text-sm text-stone-600">
            {active.length === 0 ? "You hold no machines right now." : `${heldHostCount(active)} held in ${active.length} lease${active.length === 1 ? "" : "s"}.`}
          </p>
        </div>
        <Button onClick={() => setGetOpen(true)} disabled={!canLease}>
          Get machines
        </Button>
      </div>
      {!canLease ? (
        <Alert tone="info">
          You are not in any project yet, and every lease is charged to a project. Ask an administrator to add you to a project; then you can get machines here.
        </Alert>
      ) : null}
      {notice ? <Alert tone="success">{notice}</Alert> : null}
      {leases.isRefetchError ? <p className="text-xs text-amber-700">The list could not be refreshed ({leases.error.message}); it will retry.</p> : null}
      {active.length > 0 ? (
        <ul className="space-y-3">
          {active.map((lease) => (
            <li key={lease.id}>
              <LeaseCard lease={lease} pool={lease.poolId ? poolsById.get(lease.poolId) : undefined} onDone={refresh} power={power.data} captureAtOnce={lease.id === captureLeaseId} />
            </li>
          ))}
        </ul>
      ) : canLease ? (
        <div className="rounded-lg border border-dashed border-stone-300 bg-white px-6 py-10 text-center text-sm text-stone-600">
          Nothing leased. Use <span className="font-medium">Get machines</span> to take some from a pool.
        </div>
      ) : null}
      {captureLeaseId && !active.some((l) => l.id === captureLeaseId) ? (
        <Alert tone="info">That lease has ended and its machines are wiped (or being wiped): there is nothing left to capture.</Alert>
      ) : null}
      {ending.length > 0 ? (
        <ul className="space-y-3" aria-label="Leases being ended">
          {ending.map((lease) => (
            <li key={lease.id}>
              <EndingLeaseCard lease={lease} />
            </li>
          ))}
        </ul>
      ) : null}
      {past.length > 0 ? <PastLeases leases={past} /> : null}
      <GetMachinesDialog
        open={getOpen}
        onClose={() => setGetOpen(false)}
        pools={pools}
        projects={projects}
        onLeased={(lease) => {
          setGetOpen(false);
          refresh(`Leased ${heldHosts(lease).map((h) => h.name).join(", ")} until ${formatDateTime(lease.endsAt)}.`);
        }}
      />
    </section>
  );
}

function heldHostCount(leases: LeaseView[]): string {
  const n = leases.reduce((sum, l) => sum + heldHosts(l).length, 0);
  return `${n} machine${n === 1 ? "" : "s"}`;
}

type Open = null | "extend" | "release" | "handover" | "capture" | "deploy";

/**
 * The host's latest run in a few words ("run: cancelled"); the host page has the whole timeline,
 * live. Labelled, because beside a lease a bare "cancelled" reads as if the lease was.
 */
function RunBadge({ run }: { run: NonNullable<LeaseView["hosts"][number]["run"]> }) {
  const active = run.state === "pending" || run.state === "running";
  const tone = run.state === "failed" ? "red" : active ? "sky" : run.state === "done" ? "green" : "amber";
  return (
    <span data-testid="run-badge" title={run.failureReason ?? run.action} className="inline-flex flex-wrap items-center gap-2">
      <Badge tone={tone}>
        run: {run.provisioning}
        {active && run.step ? ` · ${run.step}` : ""}
        {active && run.percent !== null ? ` ${run.percent}%` : ""}
      </Badge>
      {active && run.percent !== null ? (
        <span className="inline-flex items-center gap-2 text-xs text-stone-600">
          <span role="progressbar" aria-label={`${run.step ?? "progress"} of the run`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={run.percent} className="inline-block h-1.5 w-24 overflow-hidden rounded-full bg-stone-200">
            <span className="block h-full bg-sky-500" style={{ width: `${run.percent}%` }} />
          </span>
          {run.rate ? `${(run.rate / 1e6).toFixed(1)} MB/s` : ""}
          {run.etaSeconds !== null ? ` · ${run.etaSeconds < 90 ? `${run.etaSeconds} s` : `${Math.round(run.etaSeconds / 60)} min`} left` : ""}
        </span>
      ) : null}
    </span>
  );
}

function LeaseCard({ lease, pool, onDone, power, captureAtOnce }: { lease: LeaseView; pool?: PoolOption; onDone: (message: string) => void; power?: Map<string, PowerView>; captureAtOnce?: boolean }) {
  const [open, setOpen] = useState<Open>(captureAtOnce ? "capture" : null);
  const hosts = heldHosts(lease);
  const close = () => setOpen(null);
  return (
    <article aria-label={`Lease of ${hosts.map((h) => h.name).join(", ")}`} data-testid="lease-card" className="rounded-lg border border-stone-200 bg-white p-4 shadow-sm">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <ul className="flex flex-wrap gap-2">
            {hosts.map((h) => (
              <li key={h.id} className="flex flex-wrap items-center gap-1.5">
                <Link href={`/hosts/${h.id}`} className="rounded-md bg-stone-100 px-2 py-1 font-mono text-sm font-medium text-stone-900 hover:bg-kiln-50 hover:text-kiln-700">
                  {h.name}
                </Link>
                <PowerBadge power={power?.get(h.id)} />
                {h.run ? <RunBadge run={h.run} /> : null}
              </li>
            ))}
          </ul>
          <p className="mt-2 text-sm text-stone-600">
            Project <span className="font-medium text-stone-800">{lease.projectName}</span>
            {lease.poolName ? (
              <>
                {" "}
                · pool <span className="font-medium text-stone-800">{lease.poolName}</span>
              </>
            ) : (
              " · allocated by an administrator"
            )}
          </p>
          <SshLines hosts={hosts} />
          {lease.end.stage ? <StageStrip lease={lease} onCapture={() => setOpen("capture")} /> : null}
        </div>
        <div className="text-right text-sm">
          <p className="mb-1">
            <Badge tone="indigo" testId="lease-state">
              lease: {lease.state}
            </Badge>
          </p>
          <TimeLeft endsAt={lease.endsAt} />
          <p className="text-xs text-stone-500">ends {formatDateTime(lease.endsAt)}</p>
        </div>
      </div>
      <div className="mt-4 flex flex-wrap gap-2 border-t border-stone-100 pt-3">
        <Button variant="secondary" onClick={() => setOpen("extend")}>
          Extend
        </Button>
        <Button variant="secondary" onClick={() => setOpen("handover")}>
          Hand over
        </Button>
        <Button variant="secondary" onClick={() => setOpen("capture")}>
          Capture disk…
        </Button>
        {hosts.length > 0 ? (
          <Button variant="secondary" onClick={() => setOpen("deploy")}>
            Deploy to hosts…
          </Button>
        ) : null}
        <Button variant="quietDanger" className="ml-auto" onClick={() => setOpen("release")}>
          Release
        </Button>
      </div>
      <ExtendLeaseDialog lease={lease} pool={pool} open={open === "extend"} onClose={close} onDone={onDone} />
      <HandOverLeaseDialog lease={lease} open={open === "handover"} onClose={close} onDone={onDone} />
      <ReleaseLeaseDialog lease={lease} open={open === "release"} onClose={close} onDone={onDone} />
      <CaptureDiskDialog lease={lease} open={open === "capture"} onClose={close} onDone={onDone} />
      <DeployGroupDialog leaseId={lease.id} hosts={hosts.map((h) => ({ id: h.id, name: h.name }))} open={open === "deploy"} onClose={close} />
    </article>
  );
}

/** An ended lease whose machines are not back yet: which, and where the end has got to. */
function EndingLeaseCard({ lease }: { lease: LeaseView }) {
  return (
    <article aria-label={`Lease ending: ${lease.hosts.map((h) => h.name).join(", ")}`} data-testid="ending-lease-card" className="rounded-lg border border-stone-200 bg-white p-4 shadow-sm">
      <p className="text-sm text-stone-700">
        <span className="font-mono font-medium">{lease.hosts.map((h) => h.name).join(", ")}</span> · project {lease.projectName} ·{" "}
        <Badge tone="amber">lease {lease.state}</Badge> {formatDateTime(lease.endedAt)}
      </p>
      <StageStrip lease={lease} />
    </article>
  );
}

/**
 * How to log in to each held machine: the ssh line the host page's Access card shows (from the
 * best routable address learned under this lease), or a muted note until Kiln learns one.
 */
function SshLines({ hosts }: { hosts: LeaseView["hosts"] }) {
  if (hosts.length === 0) return null;
  return (
    <ul className="mt-3 space-y-1.5" aria-label="How to log in">
      {hosts.map((h) => (
        <li key={h.id} className="flex min-w-0 items-center gap-2 text-sm" data-testid="lease-ssh" data-host={h.name}>
          {hosts.length > 1 ? <span className="w-24 shrink-0 truncate font-mono text-xs text-stone-500">{h.name}</span> : null}
          {h.access ? (
            <span className="flex min-w-0 flex-1 items-center gap-2 rounded-md bg-stone-900 px-2.5 py-1">
              <code className="min-w-0 flex-1 overflow-x-auto whitespace-nowrap font-mono text-xs text-stone-50" data-testid="lease-ssh-command" title={h.access.userSource === "fallback" ? "root is a guess: Kiln does not know this system's accounts." : undefined}>
                {h.access.command}
              </code>
              <CopyButton text={h.access.command} label="Copy" />
            </span>
          ) : (
            <span className="text-xs text-stone-500" data-testid="lease-ssh-none">
              No ssh line yet: Kiln knows no address it can be reached at.
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

function PastLeases({ leases }: { leases: LeaseView[] }) {
  return (
    <details className="rounded-lg border border-stone-200 bg-white">
      <summary className="cursor-pointer px-4 py-3 text-sm font-medium text-stone-700">Past leases ({leases.length})</summary>
      <Table columns={[{ label: "Machines" }, { label: "Project" }, { label: "Pool" }, { label: "Ended" }]} frame="bare" className="border-t border-stone-100">
        {leases.map((l) => (
          <tr key={l.id}>
            <td className="px-4 py-2 font-mono text-xs">{l.hosts.map((h) => h.name).join(", ")}</td>
            <td className="px-4 py-2">{l.projectName}</td>
            <td className="px-4 py-2">{l.poolName ?? "—"}</td>
            <td className="px-4 py-2">
              <Badge tone={l.state === "expired" ? "amber" : "stone"}>lease {l.state}</Badge> <span className="text-stone-600">{formatDateTime(l.endedAt)}</span>
            </td>
          </tr>
        ))}
      </Table>
    </details>
  );
}
