"use client";
// An administrator's "Commission": the host boots the deploy ramdisk, reports its hardware and
// switches off (docs/commissioning.md). Asks once, since Kiln restarts the machine to do it.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "../ui/button";
import { ApiError, callApi } from "../ui/use-api";

export function CommissionButton({ hostId, hostName, compact = false }: { hostId: string; hostName: string; compact?: boolean }) {
  const router = useRouter();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState<{ ok: boolean; text: string } | null>(null);
  const size = compact ? "px-2 py-1 text-xs" : "";

  async function start() {
    setBusy(true);
    try {
      await callApi(`/api/v1/hosts/${hostId}/commission`, "POST");
      setSaid({ ok: true, text: "Commissioning started: the machine reports its hardware at its next network boot, then switches off." });
      router.refresh();
    } catch (e) {
      setSaid({ ok: false, text: e instanceof ApiError ? e.message : "Commissioning could not be started." });
    } finally {
      setBusy(false);
      setAsking(false);
    }
  }

  return (
    <span className="inline-flex flex-col items-start gap-1">
      {asking ? (
        <span className="inline-flex flex-wrap items-center gap-1">
          <Button className={size} disabled={busy} onClick={start} aria-label={`Confirm commissioning ${hostName}`}>
            Restart and commission
          </Button>
          <Button variant="ghost" className={size} disabled={busy} onClick={() => setAsking(false)}>
            Cancel
          </Button>
        </span>
      ) : (
        <Button variant="secondary" className={size} onClick={() => (setSaid(null), setAsking(true))} aria-label={`Commission ${hostName}`}>
          Commission
        </Button>
      )}
      {said ? (
        <span role="status" className={`max-w-[18rem] whitespace-normal text-xs ${said.ok ? "text-emerald-700" : "text-red-700"}`}>
          {said.text}
        </span>
      ) : null}
    </span>
  );
}
