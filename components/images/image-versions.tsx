"use client";
// The versions of one image, live: polled while one is uploading or verifying, so
// "uploading…" → "verifying…" → "ready" (or "failed") shows without a reload. The upload
// panel sits below the table it feeds.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { Alert } from "../ui/alert";
import { Badge } from "../ui/badge";
import { Table } from "../ui/table";
import { Button } from "../ui/button";
import { Dialog, DialogActions } from "../ui/dialog";
import { formatBytes, formatDateTime } from "../ui/format";
import { callApi, useApi } from "../ui/use-api";
import type { VersionView } from "./types";
import { UploadPanel } from "./upload-panel";
import { VersionStateBadge } from "./version-state-badge";

const POLL_MS = 2000;
// While bytes arrive (perhaps from another tab or a script) there is less to see change.
const POLL_UPLOADING_MS = 5000;
// How long after an upload finishes to look often for its version to leave "uploading".
const AFTER_UPLOAD_MS = 60_000;

export function versionsKey(imageId: string) {
  return ["images", imageId, "versions"];
}

export function ImageVersions({ imageId, initial, canEdit, canUpload }: { imageId: string; initial: VersionView[]; canEdit: boolean; canUpload: boolean }) {
  const queryClient = useQueryClient();
  // Just after an upload finishes, its version is about to leave "uploading": look often.
  const [uploadedAt, setUploadedAt] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<VersionView | null>(null);
  // The upload panel's file while it uploads: until its version is listed, the empty list says so.
  const [activeUpload, setActiveUpload] = useState<string | null>(null);
  const versions = useQuery({
    queryKey: versionsKey(imageId),
    queryFn: () => callApi<{ data: VersionView[] }>(`/api/v1/images/${imageId}/versions`, "GET").then((r) => r.data),
    initialData: initial,
    refetchInterval: (query) => {
      const data = query.state.data ?? [];
      if (data.some((v) => v.state === "verifying")) return POLL_MS;
      if (!data.some((v) => v.state === "uploading")) return false;
      return uploadedAt !== null && Date.now() - uploadedAt < AFTER_UPLOAD_MS ? POLL_MS : POLL_UPLOADING_MS;
    },
  });
  const rows = versions.data;
  // The page's header (latest, counts, bytes stored) is server-rendered: refresh it when a
  // version appears, changes state or goes.
  const router = useRouter();
  const signature = rows.map((v) => `${v.version}:${v.state}`).join(",");
  const seen = useRef(signature);
  useEffect(() => {
    if (seen.current === signature) return;
    seen.current = signature;
    router.refresh();
  }, [signature, router]);
  const latestReady = rows.filter((v) => v.state === "ready").reduce<number | null>((m, v) => (m === null || v.version > m ? v.version : m), null);

  return (
    <div className="space-y-6">
      <section aria-labelledby="versions-title" className="space-y-3">
        <div className="flex items-end justify-between gap-3">
          <h2 id="versions-title" className="text-lg font-semibold">
            Versions
          </h2>
          {versions.isRefetchError ? <p className="text-xs text-amber-700">The list could not be refreshed ({versions.error.message}); it will retry.</p> : null}
        </div>
        {notice ? <Alert tone="success">{notice}</Alert> : null}
        {rows.length === 0 && activeUpload ? (
          <div role="status" data-testid="versions-upload-in-progress" className="rounded-lg border border-dashed border-sky-300 bg-sky-50 px-6 py-10 text-center text-sm text-sky-900">
            Uploading <strong>{activeUpload}</strong>: it becomes the first version once its bytes have arrived and Kiln has checked them. Progress is shown below.
          </div>
        ) : rows.length === 0 ? (
          <div className="rounded-lg border border-dashed border-stone-300 bg-white px-6 py-10 text-center text-sm text-stone-600">No versions yet. {canUpload ? "Upload the first one below." : ""}</div>
        ) : (
          <Table columns={[{ label: "Version" }, { label: "State" }, { label: "Size", align: "right" }, { label: "Format" }, { label: "sha256" }, { label: "Uploaded" }, { label: "Notes" }, ...(canEdit ? [{ label: "Actions", srOnly: true }] : [])]}>
            {rows.map((v) => (
              <tr key={v.version} data-testid={`version-row-${v.version}`} className="align-top">
                <td className="whitespace-nowrap px-4 py-3">
                  <Link href={`/images/${imageId}/versions/${v.version}`} className="font-medium text-kiln-700 hover:underline">
                    v{v.version}
                  </Link>
                  {v.version === latestReady ? (
                    <span className="ml-2">
                      <Badge tone="kiln">latest</Badge>
                    </span>
                  ) : null}
                </td>
                <td className="px-4 py-3">
                  <VersionStateBadge state={v.state} />
                  {v.state === "failed" && v.failureReason ? <p className="mt-1 max-w-56 text-xs text-red-700">{v.failureReason}</p> : null}
                  {v.warnings?.length ? (
                    <p className="mt-1 max-w-56 text-xs text-amber-800" data-testid="version-warning" title={v.warnings.join(" ")}>
                      Not recognised as a disk image: check the file before deploying it.
                    </p>
                  ) : null}
                </td>
                <td className="whitespace-nowrap px-4 py-3 text-right tabular-nums text-stone-700">{formatBytes(v.sizeBytes)}</td>
                <td className="px-4 py-3 text-stone-700">{v.format ?? "—"}</td>
                <td className="px-4 py-3">
                  {v.sha256 ? (
                    <code title={v.sha256} className="font-mono text-xs text-stone-700" data-testid="version-sha256-short">
                      {v.sha256.slice(0, 12)}…
                    </code>
                  ) : (
                    <span className="text-stone-400">—</span>
                  )}
                </td>
                <td className="whitespace-nowrap px-4 py-3 text-stone-700">
                  <span className="block">{v.uploaderEmail ?? "—"}</span>
                  <span className="block text-xs text-stone-500">{formatDateTime(v.createdAt)}</span>
                </td>
                <td className="max-w-64 px-4 py-3 text-stone-700">
                  <p className="line-clamp-2">{v.notes || <span className="text-stone-400">—</span>}</p>
                </td>
                {canEdit ? (
                  <td className="whitespace-nowrap px-4 py-3 text-right">
                    <button type="button" onClick={() => setDeleting(v)} className="text-xs font-medium text-red-700 hover:underline" aria-label={`Delete version ${v.version}`}>
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </Table>
        )}
      </section>

      {canUpload ? (
        <UploadPanel
          imageId={imageId}
          onVersionsChanged={() => void queryClient.invalidateQueries({ queryKey: versionsKey(imageId) })}
          onActiveChange={setActiveUpload}
          onUploaded={() => {
            setUploadedAt(Date.now());
            void queryClient.invalidateQueries({ queryKey: versionsKey(imageId) });
          }}
        />
      ) : null}

      {deleting ? (
        <DeleteVersionDialog
          imageId={imageId}
          version={deleting}
          onClose={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            setNotice(`Deleted version ${deleting.version}.`);
            void queryClient.invalidateQueries({ queryKey: versionsKey(imageId) });
          }}
        />
      ) : null}
    </div>
  );
}

/** A version in use by an active deployment cannot be deleted: the API's 409 message says which. */
export function DeleteVersionDialog({ imageId, version, onClose, onDone }: { imageId: string; version: Pick<VersionView, "version" | "sizeBytes">; onClose: () => void; onDone: () => void }) {
  const api = useApi<undefined>(`/api/v1/images/${imageId}/versions/${version.version}`, "DELETE");
  return (
    <Dialog open onClose={onClose} title={`Delete version ${version.version}?`}>
      <div className="space-y-4">
        {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
        <p className="text-sm text-stone-700">
          Its bytes{version.sizeBytes ? ` (${formatBytes(version.sizeBytes)})` : ""} are deleted and its number is not reused. Deployments that used it keep their record. This cannot be undone.
        </p>
        <DialogActions>
          <Button type="button" variant="secondary" onClick={onClose} data-autofocus>
            Keep it
          </Button>
          <Button type="button" variant="danger" disabled={api.isPending} onClick={() => api.mutate(undefined, { onSuccess: onDone })}>
            {api.isPending ? "Deleting…" : "Delete version"}
          </Button>
        </DialogActions>
      </div>
    </Dialog>
  );
}
