"use client";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { formValues, useApi } from "../ui/use-api";

export function ResetPasswordForm({ token, minLength }: { token: string; minLength: number }) {
  const api = useApi<Record<string, string>>("/api/account/password-reset/confirm");
  return (
    <form
      className="space-y-4"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        api.mutate({ ...formValues(e.currentTarget), token }, { onSuccess: () => window.location.assign("/signin?reset=done") });
      }}
    >
      {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
      <Field
        name="password"
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        hint={`At least ${minLength} characters. All your sessions will be signed out.`}
        error={api.fieldErrors.password}
      />
      <Button type="submit" className="w-full" disabled={api.isPending}>
        {api.isPending ? "Saving…" : "Set new password"}
      </Button>
    </form>
  );
}
