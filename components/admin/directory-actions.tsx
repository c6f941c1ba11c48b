"use client";
// The Directory page's two actions: re-sync every entry, and link an entry Kiln refused.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, DialogActions } from "../ui/dialog";
import { toast } from "../ui/toast";
import { callApi } from "../ui/use-api";

export function ResyncDirectoryButton() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        variant="secondary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const { marked, added } = await callApi<{ marked: number; added: number }>("/api/v1/directory/resync", "POST");
            toast(`${marked} entr${marked === 1 ? "y" : "ies"} will be written again within a minute${added ? `, ${added} of them new for accounts that had none` : ""}.`);
            router.refresh();
          } catch (e) {
            setError((e as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        Re-sync all
      </Button>
      {error ? (
        <p role="alert" className="text-xs text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function LinkDirectoryEntryButton({ id, dn, email }: { id: string; dn: string; email: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)} aria-label={`Link ${dn}`}>
        Link
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={`Link ${dn} to ${email}?`}>
        <div className="space-y-4 text-left">
          {error ? <Alert tone="error">{error}</Alert> : null}
          <p className="text-sm text-stone-700">
            This entry was in the directory before Kiln, so Kiln refused to write it. Link it only if it is this person&apos;s: Kiln will then set its
            password, name and mail from their account (keeping its uidNumber, gidNumber and home), lock it when the account is disabled, and remove it
            when the account is deleted.
          </p>
          <p className="text-sm text-stone-500">The link is recorded in the audit log.</p>
          <DialogActions>
            <Button type="button" variant="secondary" data-autofocus onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button
              type="button"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setError(null);
                try {
                  await callApi(`/api/v1/directory/entries/${id}/link`, "POST");
                  setOpen(false);
                  toast(`${dn} is linked to ${email}; Kiln writes it within a minute.`);
                  router.refresh();
                } catch (e) {
                  setError((e as Error).message);
                } finally {
                  setBusy(false);
                }
              }}
            >
              Link entry
            </Button>
          </DialogActions>
        </div>
      </Dialog>
    </>
  );
}
