// /register — create a Kiln account (email + verification)
import Link from "next/link";
import { RegisterForm } from "@/components/auth/register-form";
import { Alert } from "@/components/ui/alert";
import { AuthCard } from "@/components/ui/card";
import { getEnv } from "@/lib/env";
import { isSmtpConfigured } from "@/lib/mail/send";
import { PASSWORD_MIN_LENGTH } from "@/lib/validation/accounts";

export const metadata = { title: "Register" };
export const dynamic = "force-dynamic";

export default function RegisterPage() {
  const env = getEnv();
  return (
    <AuthCard
      title="Create your Kiln account"
      footer={
        <>
          Already registered?{" "}
          <Link href="/signin" className="font-medium text-kiln-700 hover:underline">
            Sign in
          </Link>
        </>
      }
    >
      {env.KILN_REGISTRATION === "closed" ? (
        <Alert tone="info">Registration is closed on this Kiln. Ask an administrator for an account{env.isLdapEnabled ? ", or sign in with your lab account" : ""}.</Alert>
      ) : (
        <div className="space-y-4">
          {env.KILN_REGISTRATION === "approval" ? (
            <Alert tone="info">New accounts need an administrator&apos;s approval after you confirm your email.</Alert>
          ) : null}
          <RegisterForm allowedDomains={env.KILN_ALLOWED_EMAIL_DOMAINS} minLength={PASSWORD_MIN_LENGTH} isMailConfigured={isSmtpConfigured()} />
        </div>
      )}
    </AuthCard>
  );
}
