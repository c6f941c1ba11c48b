"use client";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { ApiForm } from "../ui/api-form";
import { useApi } from "../ui/use-api";
import { usePasswordConfirmation } from "./password-confirmation";

export function SetupForm({ token, minLength }: { token: string; minLength: number }) {
  const api = useApi<Record<string, string>>("/api/account/setup");
  const confirm = usePasswordConfirmation("password");
  return (
    <ApiForm onValues={(v) => confirm.check(v) && api.mutate({ ...confirm.strip(v), token }, { onSuccess: () => window.location.assign("/signin?setup=done") })} formError={api.formError}>
      <Field name="name" label="Name" autoComplete="name" error={api.fieldErrors.name} />
      <Field name="email" label="Email" type="email" autoComplete="email" required error={api.fieldErrors.email} />
      <Field
        name="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        hint={`At least ${minLength} characters; not a common password, and not your email.`}
        error={api.fieldErrors.password}
      />
      {confirm.field}
      <Button type="submit" className="w-full" disabled={api.isPending}>
        {api.isPending ? "Creating…" : "Create administrator"}
      </Button>
    </ApiForm>
  );
}
