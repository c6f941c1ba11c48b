"use client";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { ApiForm } from "../ui/api-form";
import { useApi } from "../ui/use-api";
import { usePasswordConfirmation } from "./password-confirmation";
import { RevokeTokensCheckbox } from "../profile/profile-forms";

export function ResetPasswordForm({ token, minLength }: { token: string; minLength: number }) {
  const api = useApi<{ token: string; password: string; revokeTokens: boolean }>("/api/account/password-reset/confirm");
  const confirm = usePasswordConfirmation("password", "Confirm new password");
  return (
    <ApiForm
      onValues={(v) =>
        confirm.check(v) &&
        api.mutate({ token, password: v.password ?? "", revokeTokens: v.revokeTokens === "on" }, { onSuccess: () => window.location.assign("/signin?reset=done") })
      }
      formError={api.formError}
    >
      <Field
        name="password"
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        hint={`At least ${minLength} characters, not a common one, and not your email. All your sessions will be signed out.`}
        error={api.fieldErrors.password}
      />
      {confirm.field}
      <RevokeTokensCheckbox />
      <Button type="submit" className="w-full" disabled={api.isPending}>
        {api.isPending ? "Saving…" : "Set new password"}
      </Button>
    </ApiForm>
  );
}
