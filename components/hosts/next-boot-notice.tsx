"use client";
// "Next boot: …", read-only: the script of its active run, its local disk, or a halt because the
// last write to the disk failed or was cancelled — with the way out (a new run, or boot the disk
// anyway). Starting and cancelling runs is the Provisioning card's, and only there.
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { NextBoot } from "@/lib/deployments/next-boot";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { callApi, ApiError } from "../ui/use-api";
import { DisklessCaptureButton, type CaptureTarget } from "./diskless-capture-dialog";

/** One request at a time from a notice's buttons: busy while it runs, its refusal shown, the page refreshed after. */
function useHostAction() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (path: string, method: "POST" | "DELETE") => {
    setBusy(true);
    setError(null);
    try {
      await callApi(path, method);
      router.refresh();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "The request failed.");
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, act };
}

export function NextBootNotice({ hostId, next, canAct, captureTargets = [] }: { hostId: string; next: NextBoot; canAct: boolean; captureTargets?: CaptureTarget[] }) {
  const { busy, error, act } = useHostAction();
  if (next.kind === "run") {
    return (
      <p className="rounded-md border border-kiln-500 bg-kiln-50 px-3 py-2 text-sm text-kiln-700" data-testid="host-next-boot">
        <span className="font-medium">Next boot:</span> the run&apos;s script ({next.label.toLowerCase()}, deployment <span className="font-mono">{next.deploymentId}</span>).
      </p>
    );
  }
  if (next.kind === "diskless") return <DisklessNotice hostId={hostId} next={next} canAct={canAct} captureTargets={captureTargets} />;
  if (next.kind === "disk") {
    return (
      <p className="rounded-md border border-stone-200 bg-stone-50 px-3 py-2 text-sm text-stone-700" data-testid="host-next-boot">
        <span className="font-medium">Next boot:</span> its local disk.
      </p>
    );
  }
  const allow = () => act(`/api/v1/hosts/${hostId}/next-boot`, "POST");
  return (
    <div className="space-y-2 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="host-next-boot">
      <p>
        <span className="font-medium">Next boot: halts.</span> The last write to its disk {next.state === "cancelled" ? "was cancelled" : "failed"} (deployment{" "}
        <span className="font-mono">{next.deploymentId}</span>): {next.reason}. The disk may hold a partial or corrupt copy, so Kiln does not boot it; the machine
        shows this reason on its console and waits.
      </p>
      <p>Start a new run to write the disk again{canAct ? ", or boot the disk as it is" : ""}.</p>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {canAct ? (
        <Button variant="secondary" onClick={allow} disabled={busy}>
          Boot the disk anyway
        </Button>
      ) : null}
    </div>
  );
}

// A live diskless root (docs/diskless.md): what the machine boots, the holder's two ways out, and
// keeping its changes as a new image version.
function DisklessNotice({ hostId, next, canAct, captureTargets }: { hostId: string; next: Extract<NextBoot, { kind: "diskless" }>; canAct: boolean; captureTargets: CaptureTarget[] }) {
  const { busy, error, act } = useHostAction();
  return (
    <div className="space-y-2 rounded-md border border-kiln-500 bg-kiln-50 px-3 py-2 text-sm text-kiln-700" data-testid="host-next-boot">
      <p>
        <span className="font-medium">Next boot: diskless</span> — image version {next.imageVersion} from this host&apos;s copy-on-write network root; its disk is not
        used. Changes persist across reboots{next.resetAt ? ` (discarded last on ${new Date(next.resetAt).toLocaleString()})` : ""}.
      </p>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {canAct ? (
        <div className="flex flex-wrap gap-2">
          <Button variant="secondary" onClick={() => act(`/api/v1/hosts/${hostId}/diskless/reinstall`, "POST")} disabled={busy} data-testid="diskless-reinstall">
            Discard changes
          </Button>
          <Button variant="danger" onClick={() => act(`/api/v1/hosts/${hostId}/diskless`, "DELETE")} disabled={busy} data-testid="diskless-release">
            Release the root
          </Button>
          <DisklessCaptureButton hostId={hostId} targets={captureTargets} disabled={busy} />
        </div>
      ) : null}
    </div>
  );
}
