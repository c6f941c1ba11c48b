"use client";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { formValues, useApi } from "../ui/use-api";

export function SetupForm({ token, minLength }: { token: string; minLength: number }) {
  const api = useApi<Record<string, string>>("/api/account/setup");
  return (
    <form
      className="space-y-4"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        api.mutate({ ...formValues(e.currentTarget), token }, { onSuccess: () => window.location.assign("/signin?setup=done") });
      }}
    >
      {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
      <Field name="name" label="Name" autoComplete="name" error={api.fieldErrors.name} />
      <Field name="email" label="Email" type="email" autoComplete="email" required error={api.fieldErrors.email} />
      <Field
        name="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        hint={`At least ${minLength} characters.`}
        error={api.fieldErrors.password}
      />
      <Button type="submit" className="w-full" disabled={api.isPending}>
        {api.isPending ? "Creating…" : "Create administrator"}
      </Button>
    </form>
  );
}
