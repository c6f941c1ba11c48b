// /verify/:token — confirm an email address
import { VerifyEmail } from "@/components/auth/verify-email";
import { AuthCard } from "@/components/ui/card";

export const metadata = { title: "Confirm your email" };

export default async function VerifyPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <AuthCard title="Confirm your email">
      <VerifyEmail token={token} />
    </AuthCard>
  );
}
