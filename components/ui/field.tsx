import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";

type Common = { label: string; error?: string[]; hint?: string };
type ControlProps = { id: string; "aria-invalid"?: boolean; "aria-describedby"?: string; className: string };

/** Label, hint and error around one control; the error is linked with aria-describedby. */
function FieldShell({ label, error, hint, mono, control }: Common & { mono?: boolean; control: (p: ControlProps) => ReactNode }) {
  const id = useId();
  const invalid = Boolean(error?.length);
  const describedBy = invalid ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-stone-800">
        {label}
      </label>
      {control({
        id,
        "aria-invalid": invalid || undefined,
        "aria-describedby": describedBy,
        className: `block w-full rounded-md border bg-white px-3 py-2 shadow-sm outline-none focus:ring-2 ${mono ? "font-mono text-xs" : "text-sm"} ${
          invalid ? "border-red-500 focus:ring-red-200" : "border-stone-300 focus:border-kiln-500 focus:ring-kiln-100"
        }`,
      })}
      {hint && !invalid ? (
        <p id={`${id}-hint`} className="text-xs text-stone-500">
          {hint}
        </p>
      ) : null}
      {invalid ? (
        <p id={`${id}-error`} className="text-sm text-red-700" role="alert">
          {error!.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

export function Field({ label, error, hint, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  return <FieldShell label={label} error={error} hint={hint} control={(p) => <input {...input} {...p} />} />;
}

/** Monospaced by default (keys, MAC lists, settings); `mono={false}` for prose such as notes. */
export function TextAreaField({ label, error, hint, mono = true, ...input }: Common & { mono?: boolean } & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <FieldShell label={label} error={error} hint={hint} mono={mono} control={(p) => <textarea {...input} {...p} />} />;
}

export function SelectField({ label, error, hint, children, ...select }: Common & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <FieldShell
      label={label}
      error={error}
      hint={hint}
      control={(p) => (
        <select {...select} {...p}>
          {children}
        </select>
      )}
    />
  );
}
