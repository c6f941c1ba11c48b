"use client";
// "Cancel reservation…": before the start its time is freed; once started its lease is released
// (the machines are wiped), which the dialog says before anyone confirms.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogActions } from "@/components/ui/dialog";
import { callApi } from "@/components/ui/use-api";

export function CancelReservation({ id, started, label = "Cancel…" }: { id: string; started: boolean; label?: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <Button variant="quietDanger" onClick={() => setOpen(true)} data-testid={`cancel-reservation-${id}`}>
        {label}
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Cancel this reservation?">
        <div className="space-y-4">
          {error ? <Alert tone="error">{error}</Alert> : null}
          <p className="text-sm text-stone-700">
            {started
              ? "It has started: its lease is released now, and its machines are wiped and returned to the pool. Copy off anything you need first."
              : "Its hosts are freed for others at once. This cannot be undone; you may reserve again if the time is still free."}
          </p>
          <DialogActions>
            <Button variant="secondary" onClick={() => setOpen(false)} data-autofocus>
              Keep it
            </Button>
            <Button
              variant="danger"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setError(null);
                try {
                  await callApi(`/api/v1/reservations/${id}`, "DELETE");
                  setOpen(false);
                  router.refresh();
                } catch (e) {
                  setError((e as Error).message);
                } finally {
                  setBusy(false);
                }
              }}
            >
              Cancel reservation
            </Button>
          </DialogActions>
        </div>
      </Dialog>
    </>
  );
}
