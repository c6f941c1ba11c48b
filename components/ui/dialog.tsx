"use client";
import { useEffect, useId, useRef, type ReactNode } from "react";
import { Button } from "./button";

/**
 * A modal on the native <dialog>: focus moves in and is trapped, Escape closes it, and
 * the page behind is inert. Its content mounts only while open, so every opening starts
 * with a fresh form. Mark the control to focus first with `data-autofocus`.
 */
export function Dialog({
  open,
  onClose,
  title,
  description,
  size = "md",
  children,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: ReactNode;
  size?: "md" | "lg";
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      // React's autoFocus fires before the dialog is shown, so it cannot be used in here:
      // focus what is marked data-autofocus, else the first field, rather than the close button.
      const target = dialog.querySelector<HTMLElement>("[data-autofocus]") ?? dialog.querySelector<HTMLElement>("input:not([type=hidden]):not([disabled]), select, textarea");
      target?.focus();
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        // A click on the backdrop lands on the <dialog> element itself.
        if (e.target === e.currentTarget) onClose();
      }}
      className={`m-auto w-[calc(100%-2rem)] rounded-xl border border-stone-200 bg-white p-0 text-stone-900 shadow-xl backdrop:bg-stone-900/40 ${size === "lg" ? "max-w-2xl" : "max-w-lg"}`}
    >
      {open ? (
        <div className="p-6">
          <div className="flex items-start justify-between gap-4">
            <div>
              <h2 id={titleId} className="text-lg font-semibold">
                {title}
              </h2>
              {description ? <div className="mt-1 text-sm text-stone-600">{description}</div> : null}
            </div>
            <button type="button" onClick={onClose} aria-label="Close" className="-mr-2 -mt-1 rounded p-1 text-stone-500 hover:bg-stone-100 hover:text-stone-800">
              <span aria-hidden className="block h-5 w-5 text-xl leading-5">
                ×
              </span>
            </button>
          </div>
          <div className="mt-5">{children}</div>
        </div>
      ) : null}
    </dialog>
  );
}

/** The row of buttons at the bottom of a dialog. */
export function DialogActions({ children }: { children: ReactNode }) {
  return <div className="flex justify-end gap-2 pt-2">{children}</div>;
}

/**
 * The usual end of a dialog's form: a way out, and a submit button that says what it does —
 * and, while the request runs, that it is doing it (and cannot be pressed twice).
 */
export function FormActions(p: { onCancel: () => void; cancelLabel?: string; label: string; busy: boolean; busyLabel?: string; disabled?: boolean }) {
  return (
    <DialogActions>
      <Button type="button" variant="secondary" onClick={p.onCancel}>
        {p.cancelLabel ?? "Cancel"}
      </Button>
      <Button type="submit" disabled={p.busy || p.disabled}>
        {p.busy && p.busyLabel ? p.busyLabel : p.label}
      </Button>
    </DialogActions>
  );
}
