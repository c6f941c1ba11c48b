"use client";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { formValues, useApi } from "../ui/use-api";

export function ForgotPasswordForm() {
  const api = useApi<Record<string, string>>("/api/account/password-reset");
  if (api.isSuccess) {
    return (
      <Alert tone="success">
        If an account with a Kiln password uses that address, a reset link is on its way. It works once and expires in an hour.
      </Alert>
    );
  }
  return (
    <form
      className="space-y-4"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        api.mutate(formValues(e.currentTarget));
      }}
    >
      {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
      <Field name="email" label="Email" type="email" autoComplete="email" required error={api.fieldErrors.email} />
      <Button type="submit" className="w-full" disabled={api.isPending}>
        {api.isPending ? "Sending…" : "Send reset link"}
      </Button>
    </form>
  );
}
