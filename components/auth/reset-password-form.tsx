"use client";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { ApiForm } from "../ui/api-form";
import { useApi } from "../ui/use-api";

export function ResetPasswordForm({ token, minLength }: { token: string; minLength: number }) {
  const api = useApi<Record<string, string>>("/api/account/password-reset/confirm");
  return (
    <ApiForm onValues={(v) => api.mutate({ ...v, token }, { onSuccess: () => window.location.assign("/signin?reset=done") })} formError={api.formError}>
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
    </ApiForm>
  );
}
