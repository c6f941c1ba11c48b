// /reset-password/:token — choose a new password
import { ResetPasswordForm } from "@/components/auth/reset-password-form";
import { AuthCard } from "@/components/ui/card";
import { PASSWORD_MIN_LENGTH } from "@/lib/validation/accounts";

export const metadata = { title: "Choose a new password" };

export default async function ResetPasswordPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <AuthCard title="Choose a new password">
      <ResetPasswordForm token={token} minLength={PASSWORD_MIN_LENGTH} />
    </AuthCard>
  );
}
