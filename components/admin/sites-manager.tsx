"use client";
// Sites (create, rename, set the boot URL, delete when empty) and the boot servers that serve
// them, as their heartbeats report. The page re-renders every few seconds (AutoRefresh).
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Badge, type Tone } from "../ui/badge";
import { Button } from "../ui/button";
import { Dialog, DialogActions, FormActions } from "../ui/dialog";
import { Field, TextAreaField } from "../ui/field";
import { formatDateTime, formatDuration, plural } from "../ui/format";
import { Table } from "../ui/table";
import { callApi, useApi } from "../ui/use-api";

export type SiteRowView = { id: string; name: string; bootUrl: string | null; description: string; hostCount: number; isDefault: boolean };

export type BootServerRowView = {
  id: string;
  name: string;
  siteName: string;
  url: string;
  version: string;
  status: "up" | "late" | "down" | "stopped";
  lastHeartbeatAt: string;
  secondsSinceHeartbeat: number;
  requestsPerSecond: number;
  intervalErrors: number;
  totalRequests: number;
  totalErrors: number;
  memoryRatio: number | null;
  p99Ms: number | null;
  dbReachable: boolean;
};

const STATUS_TONE: Record<BootServerRowView["status"], Tone> = { up: "green", late: "amber", down: "red", stopped: "stone" };

type SiteBody = { name: string; bootUrl: string | null; description: string };

export function SitesManager({ sites, bootServers, defaultBootUrl }: { sites: SiteRowView[]; bootServers: BootServerRowView[]; defaultBootUrl: string }) {
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<SiteRowView | null>(null);
  const [deleting, setDeleting] = useState<SiteRowView | null>(null);
  return (
    <div className="space-y-8">
      <section className="space-y-4">
        <div className="flex flex-wrap items-end justify-between gap-4">
          <div>
            <h1 className="text-2xl font-semibold">Sites &amp; boot servers</h1>
            <p className="text-sm text-stone-600">
              Each site&apos;s machines boot from its own boot server. A site without a boot URL uses <code className="font-mono">{defaultBootUrl}</code> (KILN_BOOT_URL).
            </p>
          </div>
          <Button onClick={() => setCreating(true)}>New site</Button>
        </div>
        <Table columns={[{ label: "Site" }, { label: "Boot URL" }, { label: "Hosts" }, { label: "Actions", align: "right" }]}>
          {sites.map((s) => (
            <tr key={s.id} data-testid={`site-row-${s.name}`}>
              <td className="px-4 py-3">
                <p className="font-medium">
                  {s.name} {s.isDefault ? <Badge>default</Badge> : null}
                </p>
                {s.description ? <p className="text-xs text-stone-500">{s.description}</p> : null}
              </td>
              <td className="px-4 py-3 font-mono text-xs">{s.bootUrl ?? <span className="text-stone-500">{defaultBootUrl} (KILN_BOOT_URL)</span>}</td>
              <td className="px-4 py-3">
                <Link href={`/admin/hosts?site=${s.id}`} className="text-kiln-700 hover:underline">
                  {plural(s.hostCount, "host")}
                </Link>
              </td>
              <td className="px-4 py-3">
                <div className="flex justify-end gap-2">
                  <Button variant="secondary" className="py-1.5" onClick={() => setEditing(s)} aria-label={`Edit site ${s.name}`}>
                    Edit
                  </Button>
                  {s.isDefault ? null : (
                    <Button variant="quietDanger" className="py-1.5" onClick={() => setDeleting(s)} aria-label={`Delete site ${s.name}`}>
                      Delete
                    </Button>
                  )}
                </div>
              </td>
            </tr>
          ))}
        </Table>
      </section>

      <section className="space-y-3" aria-labelledby="boot-servers">
        <div>
          <h2 id="boot-servers" className="text-lg font-semibold">
            Boot servers
          </h2>
          <p className="text-sm text-stone-600">Every boot server reports every ~10 s. Late: no report for 30 s; down: for 2 minutes. Rates are of the last report&apos;s interval.</p>
        </div>
        <Table
          columns={[{ label: "Boot server" }, { label: "Site" }, { label: "Status" }, { label: "Last heartbeat" }, { label: "Requests/s", align: "right" }, { label: "Errors", align: "right" }, { label: "From memory", align: "right" }, { label: "p99", align: "right" }, { label: "Actions", srOnly: true }]}
        >
          {bootServers.map((b) => (
            <tr key={b.id} data-testid={`boot-server-row-${b.name}`}>
              <td className="px-4 py-3">
                <p className="font-mono font-medium">{b.name}</p>
                <p className="font-mono text-xs text-stone-500">
                  {b.url}
                  {b.version ? ` · v${b.version}` : ""}
                </p>
              </td>
              <td className="px-4 py-3">{b.siteName}</td>
              <td className="px-4 py-3">
                <Badge tone={STATUS_TONE[b.status]} testId="boot-server-status">
                  {b.status}
                </Badge>
                {!b.dbReachable && b.status !== "stopped" ? <p className="mt-1 text-xs text-amber-800">database unreachable in the last interval; known machines answered from memory</p> : null}
              </td>
              <td className="whitespace-nowrap px-4 py-3" title={formatDateTime(b.lastHeartbeatAt)}>
                {formatDuration(b.secondsSinceHeartbeat * 1000)} ago
              </td>
              <td className="px-4 py-3 text-right tabular-nums">{b.requestsPerSecond.toFixed(1)}</td>
              <td className="px-4 py-3 text-right tabular-nums" title={`${b.totalErrors.toLocaleString("en")} of ${b.totalRequests.toLocaleString("en")} since start`}>
                {b.intervalErrors.toLocaleString("en")}
              </td>
              <td className="px-4 py-3 text-right tabular-nums">{b.memoryRatio === null ? "—" : `${Math.round(b.memoryRatio * 100)} %`}</td>
              <td className="px-4 py-3 text-right tabular-nums">{b.p99Ms === null ? "—" : `${b.p99Ms.toFixed(1)} ms`}</td>
              <td className="px-4 py-3 text-right">{b.status === "down" || b.status === "stopped" ? <ForgetBootServer server={b} /> : null}</td>
            </tr>
          ))}
          {bootServers.length === 0 ? (
            <tr>
              <td colSpan={9} className="px-4 py-10 text-center text-stone-500">
                No boot server has reported yet. Start one with <code className="font-mono">npm run boot-server</code> (docs/topology.md).
              </td>
            </tr>
          ) : null}
        </Table>
      </section>

      <Dialog open={creating} onClose={() => setCreating(false)} title="New site">
        <SiteForm onDone={() => setCreating(false)} defaultBootUrl={defaultBootUrl} />
      </Dialog>
      <Dialog open={editing !== null} onClose={() => setEditing(null)} title={`Edit site ${editing?.name ?? ""}`}>
        {editing ? <SiteForm site={editing} onDone={() => setEditing(null)} defaultBootUrl={defaultBootUrl} /> : null}
      </Dialog>
      <Dialog open={deleting !== null} onClose={() => setDeleting(null)} title={`Delete site ${deleting?.name ?? ""}?`}>
        {deleting ? <DeleteSite site={deleting} onDone={() => setDeleting(null)} /> : null}
      </Dialog>
    </div>
  );
}

function SiteForm({ site, onDone, defaultBootUrl }: { site?: SiteRowView; onDone: () => void; defaultBootUrl: string }) {
  const router = useRouter();
  const api = useApi<SiteBody>(site ? `/api/v1/sites/${site.id}` : "/api/v1/sites", site ? "PATCH" : "POST", { fields: ["name", "bootUrl", "description"] });
  return (
    <ApiForm
      formError={api.formError}
      onValues={(v) =>
        api.mutate(
          { name: v.name ?? "", bootUrl: v.bootUrl?.trim() ? v.bootUrl.trim() : null, description: v.description ?? "" },
          {
            onSuccess: () => {
              onDone();
              router.refresh();
            },
          },
        )
      }
    >
      <Field name="name" label="Name" defaultValue={site?.name} placeholder="building-b" required data-autofocus error={api.errorsOf("name")} hint="A boot server started with KILN_SITE=<name> serves this site." />
      <Field
        name="bootUrl"
        label="Boot URL"
        defaultValue={site?.bootUrl ?? ""}
        placeholder="http://10.2.0.5:3001"
        hint={`How this site's machines reach its boot server. Empty: ${defaultBootUrl} (KILN_BOOT_URL).`}
        error={api.errorsOf("bootUrl")}
      />
      <TextAreaField mono={false} name="description" label="Description" rows={2} defaultValue={site?.description} error={api.errorsOf("description")} />
      <FormActions onCancel={onDone} busy={api.isPending} label={site ? "Save" : "Create site"} />
    </ApiForm>
  );
}

function useDelete(url: string, onDone: () => void) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await callApi(url, "DELETE");
      onDone();
      router.refresh();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

function DeleteSite({ site, onDone }: { site: SiteRowView; onDone: () => void }) {
  const del = useDelete(`/api/v1/sites/${site.id}`, onDone);
  return (
    <div className="space-y-4">
      {del.error ? <Alert tone="error">{del.error}</Alert> : null}
      <p className="text-sm text-stone-700">
        {site.hostCount > 0 ? `It still has ${plural(site.hostCount, "host")}; move them to another site first.` : "The site has no hosts. Its stopped boot servers are forgotten with it."}
      </p>
      <DialogActions>
        <Button variant="secondary" onClick={onDone} data-autofocus>
          Cancel
        </Button>
        <Button variant="danger" disabled={del.busy} onClick={del.run}>
          Delete site
        </Button>
      </DialogActions>
    </div>
  );
}

function ForgetBootServer({ server }: { server: BootServerRowView }) {
  const del = useDelete(`/api/v1/boot-servers/${server.id}`, () => {});
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <Button variant="ghost" className="py-1" disabled={del.busy} onClick={del.run} aria-label={`Forget boot server ${server.name}`}>
        Forget
      </Button>
      {del.error ? <span className="text-xs text-red-700">{del.error}</span> : null}
    </span>
  );
}
