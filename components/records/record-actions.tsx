"use client";
// The run record page's actions: Download JSON (the API's file), Publish (a leader or an
// administrator, confirmed: it cannot be undone), and Re-run… — choose hosts you hold, read
// what differs on each (newer image or templates, changed hardware) before confirming.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { RecordDiff } from "@/lib/deployments/record-access";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, DialogActions } from "../ui/dialog";
import { callApi, ApiError } from "../ui/use-api";

type HostChoice = { hostId: string; name: string; leaseId: string };
type RerunResult = { groupId: string; deploymentIds: string[]; refused: { hostId: string; name: string; reason: string }[] };

export function RecordActions(p: { recordId: string; canPublish: boolean; signedIn: boolean; hosts: HostChoice[]; recordHostId: string }) {
  const router = useRouter();
  const [publishOpen, setPublishOpen] = useState(false);
  const [rerunOpen, setRerunOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ started: HostChoice[]; refused: RerunResult["refused"] } | null>(null);

  const publish = async () => {
    setBusy(true);
    setError(null);
    try {
      await callApi(`/api/v1/records/${p.recordId}/publish`, "POST");
      setPublishOpen(false);
      router.refresh();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-2">
        <a
          href={`/api/v1/records/${p.recordId}?download=1`}
          download={`kiln-run-${p.recordId}.json`}
          className="inline-flex items-center justify-center rounded-md bg-white px-3.5 py-2 text-sm font-semibold text-stone-800 shadow-sm ring-1 ring-stone-300 hover:bg-stone-100"
          data-testid="record-download"
        >
          Download JSON
        </a>
        {p.canPublish ? (
          <Button variant="secondary" onClick={() => setPublishOpen(true)}>
            Publish…
          </Button>
        ) : null}
        {p.signedIn ? (
          <Button
            onClick={() => {
              setResult(null);
              setRerunOpen(true);
            }} disabled={p.hosts.length === 0} title={p.hosts.length === 0 ? "You hold no hosts to re-run it on: lease one first." : undefined}>
            Re-run…
          </Button>
        ) : null}
      </div>
      {p.signedIn && p.hosts.length === 0 ? <p className="text-sm text-stone-500">To re-run this record, lease a host first: it deploys on hosts you hold.</p> : null}
      {error && !publishOpen ? <Alert tone="error">{error}</Alert> : null}
      {result ? (
        <Alert tone={result.started.length ? "success" : "error"}>
          <span data-testid="rerun-result">
            {result.started.length ? (
              <>
                Re-run started on{" "}
                {result.started.map((h, i) => (
                  <span key={h.hostId}>
                    {i ? ", " : ""}
                    <Link href={`/hosts/${h.hostId}`} className="font-semibold underline">
                      {h.name}
                    </Link>
                  </span>
                ))}
                .
              </>
            ) : null}
            {result.refused.map((r) => ` ${r.name}: ${r.reason}.`).join("")}
          </span>
        </Alert>
      ) : null}

      <Dialog
        open={publishOpen}
        onClose={() => setPublishOpen(false)}
        title="Publish this record?"
        description="Anyone with its URL will read it without signing in — a DOI can point at it. It cannot be unpublished: a DOI must not break."
      >
        {error ? <Alert tone="error">{error}</Alert> : null}
        <DialogActions>
          <Button variant="secondary" onClick={() => setPublishOpen(false)}>
            Cancel
          </Button>
          <Button onClick={publish} disabled={busy} data-autofocus>
            {busy ? "Publishing…" : "Publish"}
          </Button>
        </DialogActions>
      </Dialog>

      <Dialog open={rerunOpen} onClose={() => setRerunOpen(false)} title="Re-run this record" description="The same image version, template versions, variables and options, on hosts you hold (of one lease)." size="lg">
        <RerunForm
          recordId={p.recordId}
          hosts={p.hosts}
          initial={p.hosts.some((h) => h.hostId === p.recordHostId) ? [p.recordHostId] : p.hosts[0] ? [p.hosts[0].hostId] : []}
          onCancel={() => setRerunOpen(false)}
          onDone={(r, chosen) => {
            setRerunOpen(false);
            setResult({ started: p.hosts.filter((h) => chosen.includes(h.hostId) && !r.refused.some((x) => x.hostId === h.hostId)), refused: r.refused });
            router.refresh();
          }}
        />
      </Dialog>
    </div>
  );
}

function RerunForm(p: { recordId: string; hosts: HostChoice[]; initial: string[]; onCancel: () => void; onDone: (r: RerunResult, chosen: string[]) => void }) {
  const [chosen, setChosen] = useState<string[]>(p.initial);
  const [diffs, setDiffs] = useState<Record<string, RecordDiff | { error: string }>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // The diff of each chosen host, fetched once per host.
  useEffect(() => {
    for (const hostId of chosen) {
      if (diffs[hostId]) continue;
      callApi<RecordDiff>(`/api/v1/records/${p.recordId}/diff?hostId=${hostId}`, "GET")
        .then((d) => setDiffs((cur) => ({ ...cur, [hostId]: d })))
        .catch((e) => setDiffs((cur) => ({ ...cur, [hostId]: { error: e instanceof ApiError ? e.message : String(e) } })));
    }
  }, [chosen, diffs, p.recordId]);

  const leases = new Set(p.hosts.filter((h) => chosen.includes(h.hostId)).map((h) => h.leaseId));
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await callApi<RerunResult>(`/api/v1/records/${p.recordId}/rerun`, "POST", { hostIds: chosen });
      p.onDone(r, chosen);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-4">
      <fieldset>
        <legend className="text-sm font-medium text-stone-700">Hosts</legend>
        <ul className="mt-1 space-y-1">
          {p.hosts.map((h) => (
            <li key={h.hostId}>
              <label className="flex items-center gap-2 text-sm">
                <input
                  type="checkbox"
                  checked={chosen.includes(h.hostId)}
                  onChange={(e) => setChosen((cur) => (e.target.checked ? [...cur, h.hostId] : cur.filter((x) => x !== h.hostId)))}
                />
                <span className="font-mono">{h.name}</span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      {leases.size > 1 ? <Alert tone="error">These hosts are in different leases; a re-run deploys to the hosts of one lease at a time.</Alert> : null}
      <div className="space-y-3" data-testid="rerun-diff">
        {chosen.map((hostId) => {
          const d = diffs[hostId];
          const name = p.hosts.find((h) => h.hostId === hostId)?.name ?? hostId;
          return (
            <div key={hostId} className="rounded-md border border-stone-200 p-3 text-sm">
              <p className="font-medium">If re-run on {name} now</p>
              {!d ? (
                <p className="text-stone-500">Comparing…</p>
              ) : "error" in d ? (
                <p className="text-red-700">{d.error}</p>
              ) : (
                <ul className="mt-1 list-disc space-y-0.5 pl-5 text-stone-700">
                  {d.summary.map((s) => (
                    <li key={s}>{s}</li>
                  ))}
                </ul>
              )}
            </div>
          );
        })}
      </div>
      {error ? <Alert tone="error">{error}</Alert> : null}
      <DialogActions>
        <Button variant="secondary" onClick={p.onCancel}>
          Cancel
        </Button>
        <Button onClick={submit} disabled={busy || chosen.length === 0 || leases.size > 1}>
          {busy ? "Starting…" : `Re-run on ${chosen.length} host${chosen.length === 1 ? "" : "s"}`}
        </Button>
      </DialogActions>
    </div>
  );
}
