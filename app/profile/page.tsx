// /profile — name, password, SSH keys, access tokens and calendar feeds
import { CalendarFeeds } from "@/components/calendar/calendar-feeds";
import { ApiTokens, ChangePasswordForm, NameForm, SshKeys } from "@/components/profile/profile-forms";
import { Card } from "@/components/ui/card";
import { getSshKeys } from "@/lib/accounts/profile";
import { getApiTokens } from "@/lib/auth/api-tokens";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getMyDirectoryAccount } from "@/lib/directory/account";

export const metadata = { title: "Profile" };
export const dynamic = "force-dynamic";

export default async function ProfilePage() {
  const { user } = await requirePageUser("/profile");
  const db = getAppDb();
  const [keys, tokens, directory] = await Promise.all([getSshKeys(db, user.id), getApiTokens(db, user.id), getMyDirectoryAccount(db, user)]);
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return (
    <div className="mx-auto max-w-3xl space-y-6 px-4 py-8">
      <div>
        <h1 className="text-2xl font-semibold">Profile</h1>
        <p className="mt-1 text-sm text-stone-600">
          {user.email} · {user.role === "admin" ? "administrator" : "user"} · {user.authSource === "ldap" ? `lab account (${user.ldapUsername})` : "Kiln account"}
        </p>
      </div>
      <Card title="Your name">
        <NameForm name={user.name} />
      </Card>
      <Card title="Password">
        {user.authSource === "local" ? (
          <ChangePasswordForm />
        ) : (
          <p className="text-sm text-stone-600">Your password is managed by the lab&apos;s directory (LDAP); change it there.</p>
        )}
      </Card>
      {directory ? (
        <Card title="Lab directory account" description="Your login for the lab's services that use its directory (VPN, shell).">
          <p className="text-sm text-stone-700" data-testid="directory-account">
            Username <span className="font-mono font-medium">{directory.uid}</span>
            {directory.hasPassword ? ", with your Kiln password (it follows when you change it here)." : ": change your password here once to set its password."}
            {directory.synced ? null : " Being written to the directory; ready within a minute or two."}
          </p>
        </Card>
      ) : null}
      <Card title="SSH public keys" description="Installed on the machines you deploy, through the templates' ssh_keys variable.">
        <SshKeys keys={keys.map((k) => ({ id: k.id, type: k.type, comment: k.comment, fingerprint: k.fingerprint, createdAt: k.createdAt.toISOString() }))} />
      </Card>
      <Card title="Personal access tokens" description="For scripts and the REST API. Stored hashed: copy a token when it is shown.">
        <ApiTokens
          tokens={tokens.map((t) => ({
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            createdAt: t.createdAt.toISOString(),
            lastUsedAt: iso(t.lastUsedAt),
            expiresAt: iso(t.expiresAt),
            revokedAt: iso(t.revokedAt),
          }))}
        />
      </Card>
      <Card title="Calendar feeds" description="Your leases and reservations in any calendar application (ICS). A pool's feed is made on its calendar page.">
        <CalendarFeeds />
      </Card>
    </div>
  );
}
