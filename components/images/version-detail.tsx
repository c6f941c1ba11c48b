"use client";
// One version: its checksum and format (live while it is being verified), the download
// link and a resumable curl command, the owner's notes, and the deployments that used it.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type ReactNode } from "react";
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { DeleteButton } from "../ui/delete-button";
import { SelectField, TextAreaField } from "../ui/field";
import { formatBytes, formatDateTime } from "../ui/format";
import { callApi, useApi } from "../ui/use-api";
import { CopyButton } from "./copy-button";
import { formatLabel } from "./format-label";
import type { VersionDetailView } from "./types";
import { VersionStateBadge } from "./version-state-badge";

const POLL_MS = 2000;

/** `curl -C -` resumes from what is already on disk, with a Range request the blob route answers with 206. */
export function curlCommand(blobUrl: string, filename: string): string {
  const out = filename && !/[^A-Za-z0-9._+-]/.test(filename) ? filename : "image.raw";
  return `curl -fL -C - -H "Authorization: Bearer $KILN_TOKEN" -o ${out} ${blobUrl}`;
}

export function VersionDetail({ initial, blobUrl, canEdit, isLatest }: { initial: VersionDetailView; blobUrl: string; canEdit: boolean; isLatest: boolean }) {
  const url = `/api/v1/images/${initial.imageId}/versions/${initial.version}`;
  const version = useQuery({
    queryKey: ["images", initial.imageId, "versions", initial.version],
    queryFn: () => callApi<VersionDetailView>(url, "GET"),
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.state === "uploading" || q.state.data?.state === "verifying" ? POLL_MS : false),
  });
  const v = version.data;
  const converted = v.sourceFormat && v.sourceFormat !== v.format;

  return (
    <div className="space-y-6">
      <h1 className="flex flex-wrap items-center gap-3 text-2xl font-semibold">
        <span className="break-words">
          {v.imageName} <span className="font-normal text-stone-500">version {v.version}</span>
        </span>
        <VersionStateBadge state={v.state} />
        {isLatest ? <Badge tone="kiln">latest</Badge> : null}
      </h1>
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
        <div className="min-w-0 space-y-6">
          <Card title="Checksum and format">
            {v.state === "failed" ? (
              <div className="mb-4">
                <Alert tone="error">
                  <span className="font-medium">Verification failed:</span> {v.failureReason ?? "no reason was recorded."}
                </Alert>
              </div>
            ) : null}
            {v.warnings?.length ? (
              <div role="alert" data-testid="version-warning" className="mb-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
                {v.warnings.map((w) => (
                  <p key={w}>{w}</p>
                ))}
              </div>
            ) : null}
            {v.state === "uploading" || v.state === "verifying" ? (
              <div className="mb-4">
                <Alert tone="info">{v.state === "uploading" ? "The bytes are still arriving. The checksum and format appear once the upload is complete and verified." : "Kiln is reading the bytes to compute the checksum and detect the format. This page updates by itself."}</Alert>
              </div>
            ) : null}
            <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[9rem_1fr]">
              <Row label="State">
                <VersionStateBadge state={v.state} />
              </Row>
              <Row label="sha256">
                {v.sha256 ? (
                  <div className="flex min-w-0 items-start gap-2">
                    <code className="min-w-0 break-all font-mono text-xs leading-5 text-stone-900" data-testid="version-sha256">
                      {v.sha256}
                    </code>
                    <CopyButton text={v.sha256} />
                  </div>
                ) : (
                  <span className="text-stone-500">{v.state === "failed" ? "—" : "not computed yet"}</span>
                )}
              </Row>
              <Row label="Format">
                {v.format ? (
                  <span data-testid="version-format">
                    {formatLabel(v.format)}
                    {converted ? <span className="text-stone-500"> (converted from the uploaded {formatLabel(v.sourceFormat!)})</span> : null}
                  </span>
                ) : (
                  <span className="text-stone-500">—</span>
                )}
              </Row>
              <Row label="Size">
                <span className="tabular-nums">
                  {formatBytes(v.sizeBytes)}
                  {v.sizeBytes !== null && v.sizeBytes >= 1000 ? <span className="text-stone-500"> ({v.sizeBytes.toLocaleString("en")} bytes)</span> : null}
                </span>
              </Row>
              {converted && v.sourceSha256 ? (
                <Row label="Uploaded file">
                  <span className="text-stone-700">
                    {formatBytes(v.sourceSizeBytes)}, sha256 <code className="break-all font-mono text-xs">{v.sourceSha256}</code>
                  </span>
                </Row>
              ) : null}
              {v.expectedSha256 ? (
              <Row label="Expected sha256">
                <code className="break-all font-mono text-xs text-stone-700">{v.expectedSha256}</code>
                <span className="ml-2 text-xs text-stone-500">
                  {v.state === "ready" ? "(given at upload; it matched)" : v.state === "failed" ? "(given at upload)" : "(given at upload; compared once verified)"}
                </span>
              </Row>
            ) : null}
            <Row label="File name">{v.filename || <span className="text-stone-500">—</span>}</Row>
              <Row label="Uploaded">
                {v.uploaderEmail ?? "—"} · {formatDateTime(v.createdAt)}
              </Row>
              {v.readyAt ? <Row label="Verified">{formatDateTime(v.readyAt)}</Row> : null}
            </dl>
          </Card>

          <Card title="Download" description="The blob route answers Range requests, so an interrupted download continues where it stopped.">
            {v.state === "ready" ? (
              <div className="space-y-4">
                <a href={v.blobUrl ?? blobUrl} download className="inline-flex items-center rounded-md bg-kiln-600 px-3.5 py-2 text-sm font-semibold text-white shadow-sm hover:bg-kiln-700">
                  Download {formatBytes(v.sizeBytes)}
                </a>
                <div>
                  <p className="mb-1 text-sm text-stone-700">
                    From a shell, with an{" "}
                    <Link href="/profile" className="font-medium text-kiln-700 hover:underline">
                      access token
                    </Link>{" "}
                    in <code className="font-mono text-xs">KILN_TOKEN</code> (run it again to resume):
                  </p>
                  <div className="flex items-start gap-2 rounded-md bg-stone-900 p-3">
                    <pre className="min-w-0 flex-1 whitespace-pre-wrap break-all font-mono text-xs leading-5 text-stone-100" data-testid="curl-command">
                      {curlCommand(blobUrl, v.filename)}
                    </pre>
                    <CopyButton text={curlCommand(blobUrl, v.filename)} />
                  </div>
                </div>
              </div>
            ) : (
              <p className="text-sm text-stone-600">Only ready versions can be downloaded.</p>
            )}
          </Card>

          <DeploymentsCard usedBy={v.usedBy} />
        </div>

        <aside className="space-y-6">
          <NotesCard version={v} url={url} canEdit={canEdit} />
          <ArchCard version={v} url={url} canEdit={canEdit} />
          {canEdit ? <DangerCard imageId={v.imageId} version={v} /> : null}
        </aside>
      </div>
    </div>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="font-medium text-stone-500">{label}</dt>
      <dd className="min-w-0 text-stone-900">{children}</dd>
    </>
  );
}

function NotesCard({ version, url, canEdit }: { version: VersionDetailView; url: string; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const api = useApi<{ notes: string }, VersionDetailView>(url, "PATCH", { fields: ["notes"] });
  return (
    <Card title="Notes">
      {editing ? (
        <ApiForm
          formError={api.formError}
          onValues={(values) =>
            api.mutate(
              { notes: values.notes ?? "" },
              {
                onSuccess: () => {
                  setEditing(false);
                  void queryClient.invalidateQueries({ queryKey: ["images", version.imageId] });
                },
              },
            )
          }
        >
          <TextAreaField name="notes" label="Notes" mono={false} rows={5} defaultValue={version.notes} autoFocus error={api.errorsOf("notes")} />
          <div className="flex gap-2">
            <Button type="submit" disabled={api.isPending}>
              {api.isPending ? "Saving…" : "Save notes"}
            </Button>
            <Button type="button" variant="secondary" onClick={() => setEditing(false)}>
              Cancel
            </Button>
          </div>
        </ApiForm>
      ) : (
        <div className="space-y-3">
          <p className="whitespace-pre-wrap text-sm text-stone-700" data-testid="version-notes">
            {version.notes || <span className="text-stone-500">No notes.</span>}
          </p>
          {canEdit ? (
            <Button variant="secondary" onClick={() => setEditing(true)}>
              Edit notes
            </Button>
          ) : null}
        </div>
      )}
    </Card>
  );
}

const ARCH_LABELS = { x86_64: "x86-64 (BIOS or UEFI machines)", arm64: "arm64 (e.g. Raspberry Pi)" } as const;

/** Which machines the version runs on: deploys to a host of another architecture are refused. */
function ArchCard({ version, url, canEdit }: { version: VersionDetailView; url: string; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const api = useApi<{ arch: "x86_64" | "arm64" }, VersionDetailView>(url, "PATCH", { fields: ["arch"] });
  return (
    <Card title="Architecture">
      {canEdit ? (
        <ApiForm
          formError={api.formError}
          onValues={(values) =>
            api.mutate({ arch: values.arch === "arm64" ? "arm64" : "x86_64" }, { onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["images", version.imageId] }) })
          }
        >
          <SelectField name="arch" label="Runs on" defaultValue={version.arch} error={api.errorsOf("arch")} data-testid="version-arch">
            <option value="x86_64">{ARCH_LABELS.x86_64}</option>
            <option value="arm64">{ARCH_LABELS.arm64}</option>
          </SelectField>
          <Button type="submit" variant="secondary" disabled={api.isPending}>
            {api.isPending ? "Saving…" : "Save architecture"}
          </Button>
        </ApiForm>
      ) : (
        <p className="text-sm text-stone-700" data-testid="version-arch">
          {ARCH_LABELS[version.arch]}
        </p>
      )}
    </Card>
  );
}

const DEPLOYMENT_TONE: Record<string, "sky" | "indigo" | "green" | "red" | "stone"> = { pending: "sky", running: "indigo", done: "green", failed: "red", cancelled: "stone" };

function DeploymentsCard({ usedBy }: { usedBy: VersionDetailView["usedBy"] }) {
  return (
    <Card title="Deployments that used it">
      {usedBy.length === 0 ? <p className="text-sm text-stone-600">None yet.</p> : null}
      {usedBy.length > 0 ? (
        <ul className="divide-y divide-stone-100 text-sm" data-testid="used-by">
          {usedBy.map((d) => (
            <li key={d.id} className="flex flex-wrap items-center gap-3 py-2">
              <Link href={`/hosts/${d.hostId}`} className="font-mono font-medium text-kiln-700 hover:underline">
                {d.hostName}
              </Link>
              <Badge tone={DEPLOYMENT_TONE[d.state] ?? "stone"}>{d.state}</Badge>
              <span className="ml-auto text-xs text-stone-500">
                {d.userEmail ? `${d.userEmail} · ` : ""}
                {formatDateTime(d.createdAt)}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </Card>
  );
}

function DangerCard({ imageId, version }: { imageId: string; version: VersionDetailView }) {
  const active = version.usedBy.filter((d) => d.state === "pending" || d.state === "running");
  return (
    <Card title="Delete this version">
      <p className="mb-3 text-sm text-stone-600">
        {active.length > 0 ? `In use by ${active.length === 1 ? "a deployment that has" : `${active.length} deployments that have`} not finished: it can be deleted once ${active.length === 1 ? "it ends" : "they end"}.` : "Its bytes are deleted; its number is not reused."}
      </p>
      <DeleteButton
        label={`Delete version ${version.version}`}
        title={`Delete version ${version.version}?`}
        explanation={`Its bytes${version.sizeBytes ? ` (${formatBytes(version.sizeBytes)})` : ""} are deleted and its number is not reused. Deployments that used it keep their record. This cannot be undone.`}
        url={`/api/v1/images/${imageId}/versions/${version.version}`}
        redirectTo={`/images/${imageId}?deletedVersion=${version.version}`}
      />
    </Card>
  );
}
