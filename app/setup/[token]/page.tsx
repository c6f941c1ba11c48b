// /setup/:token — create the first administrator with the link printed at start
import Link from "next/link";
import { SetupForm } from "@/components/auth/setup-form";
import { Alert } from "@/components/ui/alert";
import { AuthCard } from "@/components/ui/card";
import { checkSetupLink } from "@/lib/accounts/first-admin";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { PASSWORD_MIN_LENGTH } from "@/lib/validation/accounts";

export const metadata = { title: "Set up Kiln" };
export const dynamic = "force-dynamic";

export default async function SetupPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  let problem: string | null = null;
  try {
    await checkSetupLink(getAppDb(), token);
  } catch (e) {
    if (!isAppError(e)) throw e;
    problem = e.message;
  }
  return (
    <AuthCard title="Create the first administrator">
      {problem ? (
        <div className="space-y-4">
          <Alert tone="error">{problem}</Alert>
          <p className="text-sm text-stone-600">
            Restarting Kiln prints a fresh link while no administrator exists, and <code>npm run kiln -- setup-link</code> prints one
            at any time.
          </p>
          <Link href="/signin" className="text-sm font-medium text-kiln-700 hover:underline">
            Go to sign in
          </Link>
        </div>
      ) : (
        <>
          <p className="mb-4 text-sm text-stone-600">This link works once. The account you create here administers this Kiln.</p>
          <SetupForm token={token} minLength={PASSWORD_MIN_LENGTH} />
        </>
      )}
    </AuthCard>
  );
}
