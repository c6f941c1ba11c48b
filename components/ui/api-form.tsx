"use client";
import type { FormEvent, ReactNode } from "react";
import { Alert } from "./alert";
import { formValues } from "./use-api";

/**
 * A form that hands its values to `onValues` (usually an API mutation) and shows the
 * form-level error on top; field errors are shown by the fields themselves.
 */
export function ApiForm({
  onValues,
  formError,
  className = "space-y-4",
  children,
}: {
  onValues: (values: Record<string, string>, form: HTMLFormElement) => void;
  formError?: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    <form
      className={className}
      noValidate
      onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        onValues(formValues(e.currentTarget), e.currentTarget);
      }}
    >
      {formError ? <Alert tone="error">{formError}</Alert> : null}
      {children}
    </form>
  );
}
