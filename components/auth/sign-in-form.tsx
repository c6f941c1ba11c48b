"use client";
import Link from "next/link";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { formValues, useApi } from "../ui/use-api";

type Method = "password" | "ldap";

export function SignInForm({ isLdapEnabled, next }: { isLdapEnabled: boolean; next: string }) {
  const [method, setMethod] = useState<Method>("password");
  const api = useApi<Record<string, string>>("/api/session");
  return (
    <div className="space-y-5">
      {isLdapEnabled ? (
        <div role="tablist" aria-label="Account type" className="grid grid-cols-2 gap-1 rounded-md bg-stone-100 p-1 text-sm">
          {(["password", "ldap"] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={method === m}
              onClick={() => {
                setMethod(m);
                api.reset();
              }}
              className={`rounded px-3 py-1.5 font-medium ${method === m ? "bg-white shadow-sm" : "text-stone-600"}`}
            >
              {m === "password" ? "Kiln account" : "Lab account (LDAP)"}
            </button>
          ))}
        </div>
      ) : null}
      <form
        className="space-y-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          api.mutate(
            { ...formValues(e.currentTarget), method },
            { onSuccess: () => window.location.assign(next) },
          );
        }}
      >
        {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
        <Field
          key={method}
          name="login"
          label={method === "ldap" ? "Username or email" : "Email"}
          type={method === "ldap" ? "text" : "email"}
          autoComplete="username"
          required
          error={api.fieldErrors.login}
        />
        <Field name="password" label="Password" type="password" autoComplete="current-password" required error={api.fieldErrors.password} />
        <Button type="submit" className="w-full" disabled={api.isPending}>
          {api.isPending ? "Signing in…" : "Sign in"}
        </Button>
        {method === "password" ? (
          <p className="text-center text-sm">
            <Link href="/forgot-password" className="text-kiln-700 hover:underline">
              Forgot your password?
            </Link>
          </p>
        ) : null}
      </form>
    </div>
  );
}
