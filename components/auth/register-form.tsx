"use client";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { ApiForm } from "../ui/api-form";
import { useApi } from "../ui/use-api";
import { usePasswordConfirmation } from "./password-confirmation";

/**
 * What registering says afterwards. Without a mail server nothing is emailed, so "check your
 * mail" would be untrue: it says where the message went. Worded the same whether or not the
 * address was registered before (the API answers both alike, so accounts are not revealed).
 */
export function RegisterDone({ email, isMailConfigured }: { email: string; isMailConfigured: boolean }) {
  if (!isMailConfigured) {
    return (
      <Alert tone="info">
        This Kiln has no mail server configured (SMTP_URL), so nothing was emailed to <strong>{email}</strong>: the message with the confirmation link was
        written to the server&apos;s log and to the administrators&apos; outbox (Admin → Outbox). Ask an administrator of this Kiln for the link; it works once
        and expires in 48 hours.
      </Alert>
    );
  }
  return (
    <Alert tone="success">
      Check your mail: we sent a link to <strong>{email}</strong>. Open it to confirm your address; it works once and expires in 48 hours.
    </Alert>
  );
}

export function RegisterForm({ allowedDomains, minLength, isMailConfigured = true }: { allowedDomains: string[]; minLength: number; isMailConfigured?: boolean }) {
  const api = useApi<Record<string, string>, { email: string }>("/api/account/register");
  const confirm = usePasswordConfirmation("password");
  if (api.isSuccess) return <RegisterDone email={api.data.email} isMailConfigured={isMailConfigured} />;
  return (
    <ApiForm onValues={(v) => confirm.check(v) && api.mutate(confirm.strip(v))} formError={api.formError}>
      <Field name="name" label="Name" autoComplete="name" error={api.fieldErrors.name} />
      <Field
        name="email"
        label="Email"
        type="email"
        autoComplete="email"
        required
        hint={allowedDomains.length ? `Use your address at ${allowedDomains.join(", ")}.` : undefined}
        error={api.fieldErrors.email}
      />
      <Field
        name="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        minLength={minLength}
        hint={`At least ${minLength} characters; not a common password, and not your email.`}
        error={api.fieldErrors.password}
      />
      {confirm.field}
      <Button type="submit" className="w-full" disabled={api.isPending}>
        {api.isPending ? "Creating account…" : "Create account"}
      </Button>
    </ApiForm>
  );
}
