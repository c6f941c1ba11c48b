"use client";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { ApiForm } from "../ui/api-form";
import { useApi } from "../ui/use-api";

export function ForgotPasswordForm({ isMailConfigured = true }: { isMailConfigured?: boolean }) {
  const api = useApi<Record<string, string>>("/api/account/password-reset");
  if (api.isSuccess && !isMailConfigured) {
    return (
      <Alert tone="info">
        This Kiln has no mail server configured (SMTP_URL), so nothing is emailed: if an account with a Kiln password uses that address, its reset link was
        written to the server&apos;s log and to the administrators&apos; outbox (Admin → Outbox). Ask an administrator of this Kiln for it; it works once and
        expires in an hour.
      </Alert>
    );
  }
  if (api.isSuccess) {
    return (
      <Alert tone="success">
        If an account with a Kiln password uses that address, a reset link is on its way. It works once and expires in an hour.
      </Alert>
    );
  }
  return (
    <ApiForm onValues={(v) => api.mutate(v)} formError={api.formError}>
      <Field name="email" label="Email" type="email" autoComplete="email" required error={api.fieldErrors.email} />
      <Button type="submit" className="w-full" disabled={api.isPending}>
        {api.isPending ? "Sending…" : "Send reset link"}
      </Button>
    </ApiForm>
  );
}
