"use client";
// The "Confirm password" field of every form that sets a password (register, first admin,
// reset, profile). Checked here, before the request: the API takes the password once.
import { useState } from "react";
import { Field } from "../ui/field";
import { passwordConfirmationError } from "@/lib/validation/accounts";

export const CONFIRM_FIELD = "passwordConfirm";

export function usePasswordConfirmation(passwordField: string, label = "Confirm password") {
  const [error, setError] = useState<string[] | undefined>();
  return {
    /** True when both fields agree; otherwise shows the mismatch under the confirmation field. */
    check(values: Record<string, string>): boolean {
      const e = passwordConfirmationError(values[passwordField], values[CONFIRM_FIELD]);
      setError(e ? [e] : undefined);
      return !e;
    },
    /** The values without the confirmation, for the API. */
    strip(values: Record<string, string>): Record<string, string> {
      const { [CONFIRM_FIELD]: _confirmation, ...rest } = values;
      return rest;
    },
    reset: () => setError(undefined),
    field: <Field name={CONFIRM_FIELD} label={label} type="password" autoComplete="new-password" required error={error} />,
  };
}
