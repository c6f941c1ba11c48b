"use client";
// Short confirmations after an action ("Role changed: ada@lab is now an administrator").
// `toast()` may be called from any client component; the one <Toaster /> in the root layout
// shows them. A module-level store, not a context, so a toast survives the router.refresh()
// that usually follows a change (the component that raised it may be re-rendered away).
import { useEffect, useSyncExternalStore } from "react";

export type ToastTone = "success" | "error" | "info";
type Toast = { id: number; message: string; tone: ToastTone };

const SHOWN_MS = 6000;
let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit(): void {
  for (const l of listeners) l();
}

export function toast(message: string, tone: ToastTone = "success"): void {
  toasts = [...toasts, { id: nextId++, message, tone }].slice(-4);
  emit();
}

function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

const TONES: Record<ToastTone, string> = {
  success: "border-green-200 bg-green-50 text-green-900",
  error: "border-red-200 bg-red-50 text-red-900",
  info: "border-sky-200 bg-sky-50 text-sky-900",
};

function ToastItem({ t }: { t: Toast }) {
  useEffect(() => {
    const timer = setTimeout(() => dismiss(t.id), SHOWN_MS);
    return () => clearTimeout(timer);
  }, [t.id]);
  return (
    <div className={`pointer-events-auto flex items-start gap-3 rounded-lg border px-4 py-3 text-sm shadow-lg ${TONES[t.tone]}`} data-testid="toast">
      <p className="flex-1">{t.message}</p>
      <button type="button" onClick={() => dismiss(t.id)} aria-label="Dismiss" className="-mr-1 rounded px-1 opacity-70 hover:opacity-100">
        ×
      </button>
    </div>
  );
}

/** Where toasts appear: bottom right, announced politely to screen readers. */
export function Toaster() {
  const list = useSyncExternalStore(subscribe, () => toasts, () => []);
  return (
    <div role="status" aria-live="polite" className="pointer-events-none fixed bottom-4 right-4 z-50 flex w-full max-w-sm flex-col gap-2">
      {list.map((t) => (
        <ToastItem key={t.id} t={t} />
      ))}
    </div>
  );
}
