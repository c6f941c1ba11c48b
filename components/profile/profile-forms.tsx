"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field, TextAreaField } from "../ui/field";
import { ApiForm } from "../ui/api-form";
import { callApi, formValues, useApi } from "../ui/use-api";
import { usePasswordConfirmation } from "../auth/password-confirmation";

export function NameForm({ name }: { name: string }) {
  const router = useRouter();
  const api = useApi<Record<string, string>>("/api/account/profile", "PATCH");
  return (
    <form
      className="flex items-end gap-3"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        api.mutate(formValues(e.currentTarget), { onSuccess: () => router.refresh() });
      }}
    >
      <div className="flex-1">
        <Field name="name" label="Display name" defaultValue={name} autoComplete="name" error={api.fieldErrors.name} />
      </div>
      <Button type="submit" variant="secondary" disabled={api.isPending}>
        Save
      </Button>
      {api.isSuccess ? <span className="pb-2 text-sm text-green-700">Saved.</span> : null}
    </form>
  );
}

type PasswordChanged = { endedSessions: number; revokedTokens: number };

/** "Password changed. 2 other sessions were signed out; 3 API tokens were revoked." */
export function describePasswordChange(r: PasswordChanged, sessions: string): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const parts = [r.endedSessions ? `${plural(r.endedSessions, sessions, `${sessions}s`)} ${r.endedSessions === 1 ? "was" : "were"} signed out` : `no ${sessions}s were open`];
  if (r.revokedTokens) parts.push(`${plural(r.revokedTokens, "API token", "API tokens")} ${r.revokedTokens === 1 ? "was" : "were"} revoked`);
  const text = `${parts.join("; ")}.`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function RevokeTokensCheckbox() {
  return (
    <label className="flex items-center gap-2 text-sm text-stone-800">
      <input type="checkbox" name="revokeTokens" className="h-4 w-4 accent-kiln-600" />
      Also revoke my API tokens (scripts using them will stop working)
    </label>
  );
}

export function ChangePasswordForm() {
  const router = useRouter();
  const api = useApi<{ currentPassword: string; newPassword: string; revokeTokens: boolean }, PasswordChanged>("/api/account/password");
  const confirm = usePasswordConfirmation("newPassword", "Confirm new password");
  return (
    <ApiForm
      onValues={(v, form) =>
        confirm.check(v) &&
        api.mutate(
          { currentPassword: v.currentPassword ?? "", newPassword: v.newPassword ?? "", revokeTokens: v.revokeTokens === "on" },
          {
            onSuccess: () => {
              form.reset();
              // The token list below shows the revocations.
              router.refresh();
            },
          },
        )
      }
      formError={api.formError}
    >
      {api.isSuccess ? (
        <Alert tone="success">Password changed. {describePasswordChange(api.data, "other session")}</Alert>
      ) : null}
      <Field name="currentPassword" label="Current password" type="password" autoComplete="current-password" error={api.fieldErrors.currentPassword} />
      <Field
        name="newPassword"
        label="New password"
        type="password"
        autoComplete="new-password"
        hint="Your other sessions will be signed out. Common passwords and ones containing your email are refused."
        error={api.fieldErrors.newPassword}
      />
      {confirm.field}
      <RevokeTokensCheckbox />
      <Button type="submit" variant="secondary" disabled={api.isPending}>
        Change password
      </Button>
    </ApiForm>
  );
}

export type SshKeyItem = { id: string; type: string; comment: string; fingerprint: string; createdAt: string };

export function SshKeys({ keys }: { keys: SshKeyItem[] }) {
  const router = useRouter();
  const api = useApi<Record<string, string>>("/api/account/ssh-keys");
  const [removeError, setRemoveError] = useState<string | null>(null);
  return (
    <div className="space-y-4">
      {keys.length === 0 ? (
        <p className="text-sm text-stone-500">No keys yet. Templates put these keys on the machines you deploy.</p>
      ) : (
        <ul className="divide-y divide-stone-100 rounded-md border border-stone-200">
          {keys.map((k) => (
            <li key={k.id} className="flex items-center gap-3 px-3 py-2 text-sm">
              <div className="min-w-0 flex-1">
                <p className="font-medium">{k.comment || k.type}</p>
                <p className="truncate font-mono text-xs text-stone-500">
                  {k.type} {k.fingerprint}
                </p>
              </div>
              <Button
                variant="ghost"
                aria-label={`Remove key ${k.comment || k.fingerprint}`}
                onClick={async () => {
                  setRemoveError(null);
                  await callApi(`/api/account/ssh-keys/${k.id}`, "DELETE").then(
                    () => router.refresh(),
                    (e: Error) => setRemoveError(e.message),
                  );
                }}
              >
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      {removeError ? <Alert tone="error">{removeError}</Alert> : null}
      <ApiForm
        className="space-y-3"
        formError={api.formError}
        onValues={(v, form) =>
          api.mutate(v, {
            onSuccess: () => {
              form.reset();
              router.refresh();
            },
          })
        }
      >
        <TextAreaField
          name="publicKey"
          label="Add a public key"
          rows={3}
          placeholder="ssh-ed25519 AAAAC3Nza… you@laptop"
          error={api.fieldErrors.publicKey}
        />
        <Button type="submit" variant="secondary" disabled={api.isPending}>
          Add key
        </Button>
      </ApiForm>
    </div>
  );
}

export type TokenItem = { id: string; name: string; prefix: string; createdAt: string; lastUsedAt: string | null; expiresAt: string | null; revokedAt: string | null };

export function ApiTokens({ tokens }: { tokens: TokenItem[] }) {
  const router = useRouter();
  const api = useApi<Record<string, string>, { token: string }>("/api/account/tokens");
  return (
    <div className="space-y-4">
      {api.isSuccess ? (
        <Alert tone="success">
          <p>Copy this token now; it is shown only once.</p>
          <code data-testid="new-token" className="mt-1 block break-all font-mono text-xs">
            {api.data.token}
          </code>
        </Alert>
      ) : null}
      {tokens.length === 0 ? (
        <p className="text-sm text-stone-500">No tokens. Scripts use them as “Authorization: Bearer …”.</p>
      ) : (
        <ul className="divide-y divide-stone-100 rounded-md border border-stone-200">
          {tokens.map((t) => (
            <li key={t.id} className="flex items-center gap-3 px-3 py-2 text-sm">
              <div className="min-w-0 flex-1">
                <p className="font-medium">
                  {t.name} {t.revokedAt ? <span className="text-xs font-normal text-red-700">revoked</span> : null}
                </p>
                <p className="font-mono text-xs text-stone-500">
                  {t.prefix}… · created {t.createdAt.slice(0, 10)}
                  {t.expiresAt ? ` · expires ${t.expiresAt.slice(0, 10)}` : ""}
                  {t.lastUsedAt ? ` · last used ${t.lastUsedAt.slice(0, 16).replace("T", " ")}` : " · never used"}
                </p>
              </div>
              {t.revokedAt ? null : (
                <Button variant="ghost" onClick={() => callApi(`/api/account/tokens/${t.id}`, "DELETE").then(() => router.refresh())}>
                  Revoke
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      <form
        className="flex items-end gap-3"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const values = formValues(form);
          api.mutate(
            { name: values.name ?? "", ...(values.expiresInDays ? { expiresInDays: values.expiresInDays } : {}) },
            { onSuccess: () => { form.reset(); router.refresh(); } },
          );
        }}
      >
        <div className="flex-1">
          <Field name="name" label="Token name" placeholder="laptop scripts" error={api.fieldErrors.name} />
        </div>
        <div className="w-36">
          <Field name="expiresInDays" label="Expires in (days)" type="number" min={1} placeholder="never" error={api.fieldErrors.expiresInDays} />
        </div>
        <Button type="submit" variant="secondary" disabled={api.isPending}>
          Create token
        </Button>
      </form>
      {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
    </div>
  );
}
