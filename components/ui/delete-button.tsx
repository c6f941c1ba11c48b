"use client";
// "Delete X…" with a confirmation dialog: DELETE the URL, then go to `redirectTo` (or, without
// one, close and refresh the page in place). The refusal (e.g. 409 "has lease history") is shown
// in the dialog.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "./alert";
import { Button } from "./button";
import { Dialog, DialogActions } from "./dialog";
import { callApi } from "./use-api";

export function DeleteButton({
  label,
  title,
  explanation,
  url,
  redirectTo,
  cancelLabel = "Cancel",
  confirmLabel = "Delete",
  testId,
}: {
  label: string;
  title: string;
  explanation: string;
  url: string;
  redirectTo?: string;
  cancelLabel?: string;
  confirmLabel?: string;
  testId?: string;
}) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <Button variant="quietDanger" onClick={() => setOpen(true)} data-testid={testId}>
        {label}
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={title}>
        <div className="space-y-4">
          {error ? <Alert tone="error">{error}</Alert> : null}
          <p className="text-sm text-stone-700">{explanation}</p>
          <DialogActions>
            <Button variant="secondary" onClick={() => setOpen(false)} data-autofocus>
              {cancelLabel}
            </Button>
            <Button
              variant="danger"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setError(null);
                try {
                  await callApi(url, "DELETE");
                  if (redirectTo) router.push(redirectTo);
                  else setOpen(false);
                  router.refresh();
                } catch (e) {
                  setError((e as Error).message);
                } finally {
                  setBusy(false);
                }
              }}
            >
              {confirmLabel}
            </Button>
          </DialogActions>
        </div>
      </Dialog>
    </>
  );
}
