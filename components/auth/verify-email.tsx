"use client";
import Link from "next/link";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { useApi } from "../ui/use-api";

// A button rather than verifying on page load: mail scanners that pre-open links
// must not spend the single-use link before the person does.
export function VerifyEmail({ token }: { token: string }) {
  const api = useApi<{ token: string }, { email: string; status: string }>("/api/account/verify");
  if (api.isSuccess) {
    return (
      <div className="space-y-4">
        <Alert tone="success">
          {api.data.email} is confirmed.
          {api.data.status === "pending_approval" ? " An administrator still needs to approve your account; you will get a mail." : ""}
        </Alert>
        {api.data.status === "active" ? (
          <Link href="/signin" className="block text-center text-sm font-medium text-kiln-700 hover:underline">
            Continue to sign in →
          </Link>
        ) : null}
      </div>
    );
  }
  return (
    <div className="space-y-4">
      {api.formError ? <Alert tone="error">{api.formError}</Alert> : null}
      <p className="text-sm text-stone-600">Confirm that this email address is yours to activate your account.</p>
      <Button className="w-full" disabled={api.isPending} onClick={() => api.mutate({ token })}>
        {api.isPending ? "Confirming…" : "Confirm my email address"}
      </Button>
    </div>
  );
}
