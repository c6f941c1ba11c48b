import { useId, type InputHTMLAttributes, type TextareaHTMLAttributes } from "react";

type Common = { label: string; error?: string[]; hint?: string };

/** A labelled input whose error is shown under it and announced via aria-describedby. */
export function Field({ label, error, hint, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const invalid = Boolean(error?.length);
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-stone-800">
        {label}
      </label>
      <input
        id={id}
        {...input}
        aria-invalid={invalid || undefined}
        aria-describedby={[invalid ? errorId : null, hint ? hintId : null].filter(Boolean).join(" ") || undefined}
        className={`block w-full rounded-md border bg-white px-3 py-2 text-sm shadow-sm outline-none focus:ring-2 ${
          invalid ? "border-red-500 focus:ring-red-200" : "border-stone-300 focus:border-kiln-500 focus:ring-kiln-100"
        }`}
      />
      {hint && !invalid ? (
        <p id={hintId} className="text-xs text-stone-500">
          {hint}
        </p>
      ) : null}
      {invalid ? (
        <p id={errorId} className="text-sm text-red-700" role="alert">
          {error!.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

export function TextAreaField({ label, error, hint, ...input }: Common & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  const errorId = `${id}-error`;
  const invalid = Boolean(error?.length);
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-stone-800">
        {label}
      </label>
      <textarea
        id={id}
        {...input}
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? errorId : undefined}
        className={`block w-full rounded-md border bg-white px-3 py-2 font-mono text-xs shadow-sm outline-none focus:ring-2 ${
          invalid ? "border-red-500 focus:ring-red-200" : "border-stone-300 focus:border-kiln-500 focus:ring-kiln-100"
        }`}
      />
      {hint && !invalid ? <p className="text-xs text-stone-500">{hint}</p> : null}
      {invalid ? (
        <p id={errorId} className="text-sm text-red-700" role="alert">
          {error!.join(" ")}
        </p>
      ) : null}
    </div>
  );
}
