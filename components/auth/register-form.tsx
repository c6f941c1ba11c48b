"use client";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { ApiForm } from "../ui/api-form";
import { useApi } from "../ui/use-api";

export function RegisterForm({ allowedDomains, minLength }: { allowedDomains: string[]; minLength: number }) {
  const api = useApi<Record<string, string>, { email: string }>("/api/account/register");
  if (api.isSuccess) {
    return (
      <Alert tone="success">
        Check your mail: we sent a link to <strong>{api.data.email}</strong>. Open it to confirm your address; it works once and
        expires in 48 hours.
      </Alert>
    );
  }
  return (
    <ApiForm onValues={(v) => api.mutate(v)} formError={api.formError}>
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
      <Button type="submit" className="w-full" disabled={api.isPending}>
        {api.isPending ? "Creating account…" : "Create account"}
      </Button>
    </ApiForm>
  );
}
