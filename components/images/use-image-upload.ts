// The upload state machine behind the image's upload panel: tus-js-client keeps each upload's
// URL in localStorage under a fingerprint of the file and this image, so choosing the same file
// again after a reload picks up at the server's offset instead of starting over. Automatic
// retries, pause/resume, cancel, and the interrupted uploads found on the server are here; the
// panel (./upload-panel.tsx) only shows them.
import { useCallback, useEffect, useRef, useState } from "react";
import { Upload, defaultOptions, type DetailedError, type PreviousUpload, type UploadOptions } from "tus-js-client";
import { UPLOAD_CHUNK_BYTES, UPLOAD_PATH } from "@/lib/validation/images";

// Waits between automatic retries after a dropped connection or a server error: about
// two minutes in all, then the panel offers Resume.
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 20_000, 30_000, 60_000];

type Phase =
  | { kind: "idle" }
  | { kind: "chosen" }
  | { kind: "uploading" }
  | { kind: "retrying"; attempt: number; reason: string }
  | { kind: "paused" }
  | { kind: "failed"; message: string }
  | { kind: "done"; version: string | null };

type Previous = { upload: PreviousUpload; offset: number };
type Interrupted = { key: string; url: string; filename: string; size: number | null; offset: number; createdAt: string };

/** One upload per file and image: the same file uploaded to another image is another upload. */
function fingerprintFor(imageId: string) {
  return async (file: File) => ["kiln", imageId, file.name, file.type, file.size, file.lastModified].join("-");
}

/** The server's offset for an unfinished upload, or null when it is gone (expired, finished or cancelled). */
async function serverOffset(url: string): Promise<number | null> {
  try {
    const res = await fetch(url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" }, cache: "no-store" });
    if (!res.ok) return null;
    const offset = Number(res.headers.get("Upload-Offset"));
    return Number.isFinite(offset) ? offset : null;
  } catch {
    return null;
  }
}

/** The message to show for a failed tus request: the server's own words where it gave some. */
export function uploadErrorMessage(err: Error | DetailedError): string {
  const res = "originalResponse" in err ? err.originalResponse : null;
  if (!res) return "The connection to Kiln was lost. Check your network, then resume.";
  const status = res.getStatus();
  const body = res.getBody()?.trim() ?? "";
  let message = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    message = (typeof parsed.error === "string" ? parsed.error : parsed.error?.message) ?? parsed.message ?? body;
  } catch {}
  if (status === 401) return "Your session has ended. Sign in again, then choose the file again to resume.";
  return message ? `${message} (${status})` : `The upload was refused (${status}).`;
}

/** Bytes per second over the last few seconds of progress events. */
class SpeedMeter {
  private samples: { t: number; bytes: number }[] = [];
  reset() {
    this.samples = [];
  }
  add(bytes: number) {
    const t = performance.now();
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > 5000) this.samples.shift();
  }
  /** null until a second's worth of samples is in. */
  bytesPerSecond(): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < 1000) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
}

export type ImageUploadOptions = {
  imageId: string;
  chunkSize?: number;
  /** The file being uploaded (or just uploaded, its version not yet listed), or null: the version list shows it meanwhile. */
  onActiveChange?: (filename: string | null) => void;
  /** An upload was made (and with it a new version, "uploading…") or cancelled (its version is gone). */
  onVersionsChanged?: () => void;
  onUploaded: (filename: string) => void;
};

/** One image's upload: the chosen file, its phase and progress, the form's fields and what the buttons do. */
export function useImageUpload({ imageId, chunkSize = UPLOAD_CHUNK_BYTES, onVersionsChanged, onUploaded, onActiveChange }: ImageUploadOptions) {
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const [previous, setPrevious] = useState<Previous | null>(null);
  const [progress, setProgress] = useState<{ sent: number; total: number; speed: number | null }>({ sent: 0, total: 0, speed: null });
  const [interrupted, setInterrupted] = useState<Interrupted[]>([]);
  const [notes, setNotes] = useState("");
  const [sha256, setSha256] = useState("");
  const [arch, setArch] = useState<"x86_64" | "arm64">("x86_64");
  const upload = useRef<Upload | null>(null);
  const meter = useRef(new SpeedMeter());
  const lastPaint = useRef(0);
  const latest = useRef({ sent: 0, total: 0 });
  const inputRef = useRef<HTMLInputElement>(null);

  const busy = phase.kind === "uploading" || phase.kind === "retrying";
  const started = busy || phase.kind === "paused" || (phase.kind === "failed" && Boolean(upload.current?.url));
  const activeName = file && (busy || phase.kind === "paused" || phase.kind === "done") ? file.name : null;
  useEffect(() => onActiveChange?.(activeName), [activeName, onActiveChange]);

  // Uploads of this image that a reload or a closed tab interrupted: the browser cannot
  // reopen the file by itself, so the person is asked to choose it again.
  const findInterrupted = useCallback(async () => {
    const all = await defaultOptions.urlStorage.findAllUploads().catch(() => [] as PreviousUpload[]);
    const mine = all.filter((u) => u.metadata?.imageId === imageId && u.uploadUrl);
    const found = await Promise.all(
      mine.map(async (u) => {
        const offset = await serverOffset(u.uploadUrl!);
        if (offset === null || (u.size !== null && offset >= u.size)) {
          // Gone on the server (expired, cancelled) or finished (by another tab): forget it.
          await defaultOptions.urlStorage.removeUpload(u.urlStorageKey).catch(() => {});
          return null;
        }
        return { key: u.urlStorageKey, url: u.uploadUrl!, filename: u.metadata.filename ?? "a file", size: u.size, offset, createdAt: u.creationTime };
      }),
    );
    setInterrupted(found.filter((f): f is Interrupted => f !== null));
  }, [imageId]);

  useEffect(() => {
    void findInterrupted();
  }, [findInterrupted]);

  // Closing the tab mid-upload loses nothing (it can be resumed), but it should not happen by accident.
  useEffect(() => {
    if (!busy) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [busy]);

  // Back online after the retries ran out: carry on by ourselves.
  useEffect(() => {
    if (phase.kind !== "failed" || !upload.current?.url) return;
    const resume = () => start(false);
    window.addEventListener("online", resume);
    return () => window.removeEventListener("online", resume);
  });

  // Leaving the page pauses the upload instead of leaving it running unseen.
  useEffect(() => () => void upload.current?.abort(false), []);

  async function choose(chosen: File | null) {
    void upload.current?.abort(false);
    upload.current = null;
    latest.current = { sent: 0, total: 0 };
    setFile(chosen);
    setPrevious(null);
    setProgress({ sent: 0, total: chosen?.size ?? 0, speed: null });
    setPhase(chosen ? { kind: "chosen" } : { kind: "idle" });
    if (!chosen) return;
    const probe = new Upload(chosen, options(chosen));
    const candidates = await probe.findPreviousUploads().catch(() => []);
    for (const candidate of candidates.sort((a, b) => b.creationTime.localeCompare(a.creationTime))) {
      const offset = candidate.uploadUrl ? await serverOffset(candidate.uploadUrl) : null;
      if (offset !== null && offset < chosen.size) {
        setPrevious({ upload: candidate, offset });
        return;
      }
      await defaultOptions.urlStorage.removeUpload(candidate.urlStorageKey).catch(() => {});
    }
  }

  function options(f: File): UploadOptions {
    const metadata: Record<string, string> = { imageId, filename: f.name };
    if (notes.trim()) metadata.notes = notes.trim();
    if (sha256.trim()) metadata.sha256 = sha256.trim().toLowerCase();
    if (arch !== "x86_64") metadata.arch = arch;
    return {
      // Absolute: tus-js-client resolves the server's relative Location against it.
      endpoint: new URL(UPLOAD_PATH, window.location.href).toString(),
      metadata,
      chunkSize,
      retryDelays: RETRY_DELAYS,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      fingerprint: fingerprintFor(imageId),
      onProgress: (sent, total) => {
        meter.current.add(sent);
        latest.current = { sent, total };
        setPhase((p) => (p.kind === "retrying" ? { kind: "uploading" } : p));
        const now = performance.now();
        if (now - lastPaint.current < 200 && sent !== total) return;
        lastPaint.current = now;
        setProgress({ sent, total, speed: meter.current.bytesPerSecond() });
      },
      onShouldRetry: (err, attempt) => {
        const status = err.originalResponse?.getStatus() ?? 0;
        const retry = status === 0 || status >= 500 || status === 409 || status === 423;
        if (retry) {
          setPhase({ kind: "retrying", attempt: attempt + 1, reason: status ? `Kiln answered ${status}` : "the connection dropped" });
          meter.current.reset();
        }
        return retry;
      },
      onUploadUrlAvailable: () => onVersionsChanged?.(),
      onError: (err) => setPhase({ kind: "failed", message: uploadErrorMessage(err) }),
      onSuccess: ({ lastResponse }) => {
        setPhase({ kind: "done", version: lastResponse.getHeader("Kiln-Image-Version") ?? null });
        setPrevious(null);
        setProgress((p) => ({ ...p, sent: p.total, speed: null }));
        onUploaded(f.name);
        void findInterrupted();
      },
    };
  }

  function start(fromPrevious: boolean) {
    if (!file) return;
    if (!upload.current) {
      upload.current = new Upload(file, options(file));
      if (fromPrevious && previous) {
        upload.current.resumeFromPreviousUpload(previous.upload);
        setProgress({ sent: previous.offset, total: file.size, speed: null });
      }
    }
    meter.current.reset();
    setPhase({ kind: "uploading" });
    upload.current.start();
  }

  async function startOver() {
    // The earlier partial upload is deleted on the server rather than left to expire.
    if (previous?.upload.uploadUrl) await Upload.terminate(previous.upload.uploadUrl).catch(() => {});
    if (previous) await defaultOptions.urlStorage.removeUpload(previous.upload.urlStorageKey).catch(() => {});
    setPrevious(null);
    onVersionsChanged?.();
    setProgress({ sent: 0, total: file?.size ?? 0, speed: null });
    upload.current = null;
    start(false);
  }

  function pause() {
    void upload.current?.abort(false);
    setPhase({ kind: "paused" });
    // Paint the last progress event too: repaints are throttled, and the bar should show where it stopped.
    setProgress((p) => ({ sent: Math.max(p.sent, latest.current.sent), total: p.total, speed: null }));
  }

  async function cancel() {
    const current = upload.current;
    upload.current = null;
    if (current) await current.abort(true).catch(() => {});
    reset();
    onVersionsChanged?.();
    void findInterrupted();
  }

  function reset() {
    setFile(null);
    setNotes("");
    setSha256("");
    setPrevious(null);
    setPhase({ kind: "idle" });
    setProgress({ sent: 0, total: 0, speed: null });
    if (inputRef.current) inputRef.current.value = "";
  }

  async function discard(item: Interrupted) {
    await Upload.terminate(item.url).catch(() => {});
    await defaultOptions.urlStorage.removeUpload(item.key).catch(() => {});
    void findInterrupted();
    onVersionsChanged?.();
  }

  const showInterrupted = interrupted.filter((i) => !(file && previous && previous.upload.urlStorageKey === i.key) && !(upload.current?.url === i.url));

  return {
    file,
    phase,
    previous,
    progress,
    notes,
    setNotes,
    sha256,
    setSha256,
    arch,
    setArch,
    inputRef,
    busy,
    started,
    showInterrupted,
    choose,
    start,
    startOver,
    pause,
    cancel,
    reset,
    discard,
  };
}
