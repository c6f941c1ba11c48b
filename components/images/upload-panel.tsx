"use client";
// Uploads a new version with tus: resumable across pauses, dropped connections and page
// reloads (the state machine is ./use-image-upload.ts). Kiln hashes the bytes itself after the
// upload (hashing gigabytes in the browser would take longer than sending them).
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field, SelectField, TextAreaField } from "../ui/field";
import { formatBytes, formatDuration } from "../ui/format";
import { useImageUpload, type ImageUploadOptions } from "./use-image-upload";

export function UploadPanel(options: ImageUploadOptions) {
  const { file, phase, previous, progress, notes, setNotes, sha256, setSha256, arch, setArch, inputRef, busy, started, showInterrupted, choose, start, startOver, pause, cancel, reset, discard } =
    useImageUpload(options);

  const percent = progress.total > 0 ? Math.floor((progress.sent / progress.total) * 1000) / 10 : 0;
  const eta = progress.speed && progress.speed > 0 ? ((progress.total - progress.sent) / progress.speed) * 1000 : null;

  return (
    <section aria-labelledby="upload-title" className="rounded-lg border border-stone-200 bg-white p-6 shadow-sm">
      <h2 id="upload-title" className="text-base font-semibold text-stone-900">
        Upload a new version
      </h2>
      <p className="mt-1 text-sm text-stone-600">
        Any disk image: raw, qcow2, or compressed with gzip, zstd or xz. Kiln detects the format from the bytes, computes the sha256, and marks the version ready. Uploads survive a dropped connection, a pause or a page reload.
      </p>

      {showInterrupted.length > 0 && !started ? (
        <div className="mt-4 space-y-2">
          {showInterrupted.map((i) => (
            <div key={i.key} role="status" className="flex flex-wrap items-center gap-3 rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-900">
              <span className="flex-1">
                An upload of <span className="font-medium">{i.filename}</span> stopped at {formatBytes(i.offset)}
                {i.size ? ` of ${formatBytes(i.size)}` : ""}. Choose the same file below to resume it.
              </span>
              <button type="button" onClick={() => void discard(i)} className="text-xs font-medium text-sky-800 underline hover:text-sky-950">
                Discard it
              </button>
            </div>
          ))}
        </div>
      ) : null}

      <div className="mt-4 space-y-4">
        {!started && phase.kind !== "done" ? (
          <>
            <div className="space-y-1">
              <label htmlFor="image-file" className="block text-sm font-medium text-stone-800">
                Image file
              </label>
              <input
                ref={inputRef}
                id="image-file"
                type="file"
                onChange={(e) => void choose(e.target.files?.[0] ?? null)}
                className="block w-full text-sm text-stone-700 file:mr-3 file:rounded-md file:border-0 file:bg-stone-100 file:px-3 file:py-2 file:text-sm file:font-medium file:text-stone-800 hover:file:bg-stone-200"
              />
            </div>
            <div className="grid gap-4 sm:grid-cols-2">
              <TextAreaField label="Notes (optional)" mono={false} rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} placeholder="What changed in this version" />
              <SelectField label="Runs on" value={arch} onChange={(e) => setArch(e.target.value === "arm64" ? "arm64" : "x86_64")} hint="Deploys to machines of another architecture are refused.">
                <option value="x86_64">x86-64 (BIOS or UEFI machines)</option>
                <option value="arm64">arm64 (e.g. Raspberry Pi)</option>
              </SelectField>
              <Field
                label="Expected sha256 (optional)"
                value={sha256}
                onChange={(e) => setSha256(e.target.value)}
                placeholder="64 hex digits"
                spellCheck={false}
                autoComplete="off"
                className="font-mono"
                hint="If given, Kiln rejects the version when the bytes it received do not match."
              />
            </div>
          </>
        ) : null}

        {file && phase.kind === "failed" && !started ? <Alert tone="error">{phase.message}</Alert> : null}

        {file && (phase.kind === "chosen" || (phase.kind === "failed" && !started)) ? (
          previous ? (
            <div className="flex flex-wrap items-center gap-3 rounded-md border border-sky-200 bg-sky-50 px-3 py-2">
              <p className="flex-1 text-sm text-sky-900" data-testid="previous-upload">
                Resume previous upload of <span className="font-medium">{file.name}</span> ({formatBytes(previous.offset)} of {formatBytes(file.size)})
              </p>
              <Button onClick={() => start(true)}>Resume upload</Button>
              <Button variant="secondary" onClick={() => void startOver()}>
                Start over
              </Button>
            </div>
          ) : (
            <div className="flex items-center gap-3">
              <Button onClick={() => start(false)}>Upload {formatBytes(file.size)}</Button>
              <span className="truncate text-sm text-stone-600">{file.name}</span>
            </div>
          )
        ) : null}

        {file && (started || phase.kind === "done") ? (
          <div className="space-y-3" data-testid="upload-progress">
            <div className="flex items-baseline justify-between gap-3 text-sm">
              <span className="truncate font-medium text-stone-900">{file.name}</span>
              <span className="shrink-0 tabular-nums text-stone-700" data-testid="upload-percent">
                {percent.toFixed(1)}%
              </span>
            </div>
            <div
              role="progressbar"
              aria-label={`Upload of ${file.name}`}
              aria-valuemin={0}
              aria-valuemax={progress.total}
              aria-valuenow={progress.sent}
              aria-valuetext={`${percent.toFixed(1)}%`}
              className="h-3 overflow-hidden rounded-full bg-stone-100 ring-1 ring-inset ring-stone-200"
            >
              <div
                className={`h-full rounded-full transition-[width] duration-200 ${phase.kind === "paused" || phase.kind === "failed" ? "bg-stone-400" : phase.kind === "retrying" ? "bg-amber-500" : phase.kind === "done" ? "bg-green-600" : "bg-kiln-600"}`}
                style={{ width: `${percent}%` }}
              />
            </div>
            <div className="flex flex-wrap items-center justify-between gap-3 text-xs text-stone-600">
              <span className="tabular-nums">
                {formatBytes(progress.sent)} of {formatBytes(progress.total)}
                {phase.kind === "uploading" ? (
                  <>
                    {" · "}
                    <span data-testid="upload-speed">{progress.speed === null ? "measuring speed…" : `${formatBytes(progress.speed)}/s`}</span>
                    {eta !== null ? <> · about {formatDuration(eta)} left</> : null}
                  </>
                ) : null}
              </span>
              <span aria-live="polite" data-testid="upload-status" className="font-medium text-stone-700">
                {phase.kind === "uploading" ? "Uploading" : phase.kind === "paused" ? "Paused" : phase.kind === "retrying" ? `Retrying (${phase.reason}, attempt ${phase.attempt})…` : phase.kind === "done" ? "Uploaded" : phase.kind === "failed" ? "Stopped" : ""}
              </span>
            </div>
            {phase.kind === "failed" ? <Alert tone="error">{phase.message}</Alert> : null}
            {phase.kind === "done" ? (
              <div className="space-y-3">
                <Alert tone="success">
                  Uploaded {file.name}
                  {phase.version ? ` as version ${phase.version}` : ""}. Kiln is verifying it: the version turns ready in the table above once its checksum and format are recorded.
                </Alert>
                <Button variant="secondary" onClick={reset}>
                  Upload another
                </Button>
              </div>
            ) : (
              <div className="flex flex-wrap gap-2">
                {busy ? (
                  <Button variant="secondary" onClick={pause}>
                    Pause
                  </Button>
                ) : (
                  <Button onClick={() => start(false)}>Resume</Button>
                )}
                <Button variant="quietDanger" onClick={() => void cancel()}>
                  Cancel upload
                </Button>
              </div>
            )}
          </div>
        ) : null}
      </div>
    </section>
  );
}
