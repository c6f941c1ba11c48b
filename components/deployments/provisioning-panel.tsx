"use client";
// The host page's provisioning card, the one place a machine is reinstalled: start a run
// (Reinstall…: choose, review, confirm), follow the latest one live — steps, progress with rate
// and ETA, log — through the host's event stream, cancel it (one Cancel, confirmed with what
// happens to the machine) or retry it, and a toast when it ends. Its badge says "run:", so a
// cancelled run never reads as a cancelled lease.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import { Alert } from "../ui/alert";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Dialog, DialogActions } from "../ui/dialog";
import { formatDateTime } from "../ui/format";
import { describeCancel, hasTouchedDisk, isDiskWritten } from "@/lib/deployments/consequences";
import { callApi } from "../ui/use-api";
import { ReinstallDialog } from "./reinstall-dialog";
import { DEPLOYMENT_STATE_TONE, DeploymentTimeline } from "./deployment-timeline";
import type { FeedEvent, ImageOption, ReinstallDefaults, DeploymentView, TemplateOption } from "./types";

const STATE_TEXT: Record<DeploymentView["provisioning"], string> = {
  none: "not provisioned",
  deploying: "deploying",
  deployed: "deployed",
  failed: "failed",
  cancelled: "cancelled",
  wiping: "wiping",
  wiped: "wiped",
  capturing: "capturing",
  captured: "captured",
  commissioning: "commissioning",
  commissioned: "commissioned",
};

type Toast = { tone: "success" | "error" | "info"; text: string };

export function ProvisioningPanel({
  hostId,
  hostName,
  initial,
  lastEventId,
  canStart,
  images,
  captureTargets,
  templates,
  defaults,
  macs,
  cannotRestart,
}: {
  hostId: string;
  hostName: string;
  initial: DeploymentView | null;
  lastEventId: number;
  canStart: boolean;
  images: ImageOption[];
  /** The caller's own images, which a capture may add a version to. */
  captureTargets: ImageOption[];
  templates: TemplateOption[];
  defaults: ReinstallDefaults;
  macs: string[];
  /** Why Kiln cannot restart this machine, or null when it can. */
  cannotRestart: string | null;
}) {
  const router = useRouter();
  const [run, setRun] = useState<DeploymentView | null>(initial);
  // The feed is followed from where the first render stood; EventSource resumes by itself
  // after that (Last-Event-ID), so a refresh of the page's data must not restart it.
  const [after] = useState(lastEventId);
  const [open, setOpen] = useState(false);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [toast, setToast] = useState<Toast | null>(null);
  const runRef = useRef(run);
  runRef.current = run;

  const reload = useCallback(async (deploymentId: string) => {
    const fresh = await callApi<DeploymentView>(`/api/v1/deployments/${deploymentId}`, "GET").catch(() => null);
    if (!fresh) return;
    // A newer run replaces the one shown; news of an older one does not.
    setRun((cur) => (!cur || cur.id === fresh.id || fresh.createdAt >= cur.createdAt ? fresh : cur));
  }, []);

  // The live feed: EventSource reconnects by itself and resumes with Last-Event-ID.
  useEffect(() => {
    const source = new EventSource(`/api/v1/hosts/${hostId}/events?after=${after}`);
    const pending = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const scheduleReload = (id: string) => {
      pending.add(id);
      timer ??= setTimeout(() => {
        timer = undefined;
        for (const p of pending) void reload(p);
        pending.clear();
      }, 150);
    };
    source.onmessage = (msg) => {
      const e = JSON.parse(msg.data) as FeedEvent;
      const cur = runRef.current;
      const mine = cur?.id === e.deploymentId;
      if (e.kind === "progress" && mine) {
        setRun((r) =>
          r && r.id === e.deploymentId
            ? { ...r, progress: { bytesWritten: e.bytes as number, totalBytes: (e.totalBytes as number | null) ?? r.progress.totalBytes, rateBytesPerSecond: e.rateBytesPerSecond as number | null, etaSeconds: e.etaSeconds as number | null, updatedAt: e.at as string } }
            : r,
        );
      } else if (e.kind === "log" && mine) {
        const lines = e.lines as DeploymentView["logs"];
        setRun((r) => {
          if (!r || r.id !== e.deploymentId) return r;
          const seen = new Set(r.logs.map((l) => l.id));
          const added = lines.filter((l) => !seen.has(l.id));
          return { ...r, logs: [...r.logs, ...added].slice(-1000), logCount: r.logCount + added.length };
        });
      } else {
        scheduleReload(e.deploymentId);
      }
      if (e.kind === "state" && (e.state === "done" || e.state === "failed" || e.state === "cancelled")) {
        // The rest of the page (next network boot, the host's timeline) follows the run's end.
        router.refresh();
        const what = e.state === "done" ? "finished" : e.state === "failed" ? `failed: ${String(e.failureReason ?? "")}` : "was cancelled (the lease goes on)";
        setToast({ tone: e.state === "done" ? "success" : e.state === "failed" ? "error" : "info", text: `${hostName}: the run ${what}` });
      }
    };
    return () => {
      source.close();
      if (timer) clearTimeout(timer);
    };
  }, [hostId, hostName, after, reload, router]);

  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 10_000);
    return () => clearTimeout(t);
  }, [toast]);

  async function act(fn: () => Promise<DeploymentView>) {
    setBusy(true);
    setError(null);
    try {
      setRun(await fn());
      router.refresh();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const active = run && (run.state === "pending" || run.state === "running");
  // A mark (a run nobody powers) is ended by undoing it, which leaves the machine's power alone.
  const isMark = run?.options && (run.options as { power?: boolean }).power === false;
  const cancelText = run ? describeCancel({ action: run.action, mark: Boolean(isMark), cannotRestart, diskStarted: hasTouchedDisk(run), diskWritten: isDiskWritten(run) }) : [];
  const cancel = () =>
    act(async () => {
      setConfirmCancel(false);
      if (isMark) {
        await callApi(`/api/v1/hosts/${hostId}/reinstall`, "DELETE");
        return callApi<DeploymentView>(`/api/v1/deployments/${run!.id}`, "GET");
      }
      return callApi<DeploymentView>(`/api/v1/deployments/${run!.id}/cancel`, "POST");
    });

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <Badge tone={run ? DEPLOYMENT_STATE_TONE[run.state] : "stone"}>
          {run ? "run: " : ""}
          <span data-testid="provisioning-state">{STATE_TEXT[run?.provisioning ?? "none"]}</span>
        </Badge>
        {run ? (
          <span className="text-sm text-stone-600">
            {run.actionLabel}
            {run.image ? ` · image version ${run.image.version}` : ""}
            {run.systemTemplate?.name && run.action === "install" ? ` · ${run.systemTemplate.name} v${run.systemTemplate.version}` : ""} · started {formatDateTime(run.createdAt)}
            {run.userEmail ? ` by ${run.userEmail}` : run.origin === "release" ? " at the end of a lease" : ""}
            {run.recordId ? (
              <>
                {" · "}
                <Link href={`/records/${run.recordId}`} className="text-kiln-700 hover:underline" data-testid="run-record-link">
                  run record
                </Link>
              </>
            ) : null}
            {run.groupId ? (
              <>
                {" · "}
                <Link href={`/deployments/groups/${run.groupId}`} className="text-kiln-700 hover:underline" data-testid="run-group-link">
                  its deployment group
                </Link>
              </>
            ) : null}
          </span>
        ) : null}
        <div className="ml-auto flex gap-2">
          {run?.canCancel ? (
            <Button variant="quietDanger" disabled={busy} onClick={() => setConfirmCancel(true)}>
              Cancel run…
            </Button>
          ) : null}
          {run?.canRetry && canStart ? (
            <Button variant="secondary" disabled={busy} onClick={() => act(() => callApi<DeploymentView>(`/api/v1/deployments/${run.id}/retry`, "POST"))}>
              Retry
            </Button>
          ) : null}
          {canStart ? (
            <Button onClick={() => setOpen(true)} disabled={busy || Boolean(active)}>
              Reinstall…
            </Button>
          ) : null}
        </div>
      </div>
      {run?.state === "failed" && run.failureReason ? (
        <Alert tone="error">
          <span data-testid="run-failure">{run.failureReason}</span>
          {run.canRetry && canStart ? " — retry it, or release the host." : ""}
        </Alert>
      ) : null}
      {error ? <Alert tone="error">{error}</Alert> : null}
      {run ? <DeploymentTimeline run={run} /> : <p className="text-sm text-stone-500">No run yet. Reinstall installs an OS, deploys one of your images, captures the disk into an image, or wipes the disks.</p>}
      {/* Mounted per opening, so each starts from the saved boot settings (refreshed after a start). */}
      {canStart && open ? (
        <ReinstallDialog
          open={open}
          onClose={() => setOpen(false)}
          hostId={hostId}
          images={images}
          captureTargets={captureTargets}
          templates={templates}
          defaults={defaults}
          hostName={hostName}
          macs={macs}
          cannotRestart={cannotRestart}
          onStarted={(r) => {
            setOpen(false);
            setRun(r);
            router.refresh();
          }}
        />
      ) : null}
      {run ? (
        <Dialog open={confirmCancel} onClose={() => setConfirmCancel(false)} title={`Cancel the run on ${hostName}?`} description={`${run.actionLabel}, ${run.state}. If you cancel it:`}>
          <ul className="list-disc space-y-1.5 pl-5 text-sm text-stone-800" data-testid="cancel-consequences">
            {cancelText.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
          <DialogActions>
            <Button type="button" variant="secondary" onClick={() => setConfirmCancel(false)} data-autofocus>
              Keep it running
            </Button>
            <Button type="button" variant="danger" onClick={cancel} disabled={busy}>
              Cancel the run
            </Button>
          </DialogActions>
        </Dialog>
      ) : null}
      {toast ? (
        <div
          role="status"
          data-testid="toast"
          className={`fixed bottom-4 right-4 z-50 max-w-sm rounded-lg border px-4 py-3 text-sm shadow-lg ${
            toast.tone === "success" ? "border-green-200 bg-green-50 text-green-900" : toast.tone === "error" ? "border-red-200 bg-red-50 text-red-900" : "border-stone-200 bg-white text-stone-900"
          }`}
        >
          {toast.text}
          <button type="button" aria-label="Dismiss" onClick={() => setToast(null)} className="ml-3 text-stone-500 hover:text-stone-800">
            ×
          </button>
        </div>
      ) : null}
    </div>
  );
}
