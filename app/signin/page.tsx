// /signin — sign in with a Kiln or a lab (LDAP) account
import Link from "next/link";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Alert } from "@/components/ui/alert";
import { AuthCard } from "@/components/ui/card";
import { getCurrentUserOrNull } from "@/lib/auth/guard";
import { getEnv } from "@/lib/env";
import { safeRedirectPath } from "@/lib/http/redirect";

export const metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const env = getEnv();
  // Only paths on Kiln: an open redirect would let a phishing link bounce through Kiln.
  const next = safeRedirectPath(params.next, env.baseUrl);
  if (await getCurrentUserOrNull()) redirect(next);
  return (
    <AuthCard
      title="Sign in to Kiln"
      footer={
        env.KILN_REGISTRATION === "closed" ? null : (
          <>
            New here?{" "}
            <Link href="/register" className="font-medium text-kiln-700 hover:underline">
              Create an account
            </Link>
          </>
        )
      }
    >
      {params.setup === "done" ? (
        <div className="mb-4">
          <Alert tone="success">The administrator account is ready. Sign in with it.</Alert>
        </div>
      ) : null}
      {params.reset === "done" ? (
        <div className="mb-4">
          <Alert tone="success">Your password was changed. Sign in with the new one.</Alert>
        </div>
      ) : null}
      <SignInForm isLdapEnabled={env.isLdapEnabled} next={next} />
    </AuthCard>
  );
}
