// /forgot-password — ask for a password reset link
import Link from "next/link";
import { ForgotPasswordForm } from "@/components/auth/forgot-password-form";
import { AuthCard } from "@/components/ui/card";
import { isSmtpConfigured } from "@/lib/mail/send";

export const metadata = { title: "Forgot password" };
// Whether mail is configured is read at request time, not baked into a static page.
export const dynamic = "force-dynamic";

export default function ForgotPasswordPage() {
  return (
    <AuthCard
      title="Reset your password"
      footer={
        <Link href="/signin" className="font-medium text-kiln-700 hover:underline">
          Back to sign in
        </Link>
      }
    >
      <p className="mb-4 text-sm text-stone-600">Lab (LDAP) accounts change their password in the lab&apos;s directory, not here.</p>
      <ForgotPasswordForm isMailConfigured={isSmtpConfigured()} />
    </AuthCard>
  );
}
