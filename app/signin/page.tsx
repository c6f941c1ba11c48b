// /signin — sign in with a Kiln or a lab (LDAP) account
import Link from "next/link";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Alert } from "@/components/ui/alert";
import { AuthCard } from "@/components/ui/card";
import { getCurrentUserOrNull } from "@/lib/auth/guard";
import { getEnv } from "@/lib/env";

export const metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

/** Only same-site paths: an open redirect would let a phishing link bounce through Kiln. */
function safeNext(next: string | string[] | undefined): string {
  const n = Array.isArray(next) ? next[0] : next;
  return n && n.startsWith("/") && !n.startsWith("//") && !n.startsWith("/\\") ? n : "/";
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNext(params.next);
  if (await getCurrentUserOrNull()) redirect(next);
  const env = getEnv();
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
