"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "../ui/button";
import { DeleteButton } from "../ui/delete-button";
import { Dialog, DialogActions } from "../ui/dialog";
import { toast } from "../ui/toast";
import { callApi } from "../ui/use-api";

type Role = AdminUserRow["role"];

/** What a role change does, said before it is made: an administrator can change everything. */
export function roleChangeExplanation(email: string, to: Role): { title: string; body: string; done: string } {
  return to === "admin"
    ? {
        title: `Make ${email} an administrator?`,
        body: "They will be able to add, change and delete hosts, pools, sites, images and templates, lease any host on anyone's behalf and force-release leases, manage every user (including making others administrators), and read the audit log and the mail outbox.",
        done: `${email} is now an administrator.`,
      }
    : {
        title: `Make ${email} a regular user?`,
        body: "They will lose the admin console: no more changing hosts, pools, sites or users, no leasing on others' behalf, no audit log or outbox. They keep their own leases, projects, images and API tokens.",
        done: `${email} is now a regular user (no longer an administrator).`,
      };
}

export type AdminUserRow = { id: string; email: string; role: "user" | "admin"; status: string };

export function UserActions({ user, isSelf }: { user: AdminUserRow; isSelf: boolean }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The role the select asked for, waiting for confirmation; the select keeps showing the real role meanwhile.
  const [pendingRole, setPendingRole] = useState<Role | null>(null);
  const patch = async (body: Record<string, unknown>, done?: string) => {
    setBusy(true);
    setError(null);
    try {
      await callApi(`/api/v1/users/${user.id}`, "PATCH", body);
      if (done) toast(done);
      router.refresh();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex flex-wrap justify-end gap-2">
        <label className="sr-only" htmlFor={`role-${user.id}`}>
          Role of {user.email}
        </label>
        <select
          id={`role-${user.id}`}
          value={user.role}
          disabled={busy}
          onChange={(e) => setPendingRole(e.target.value as Role)}
          className="rounded-md border border-stone-300 bg-white px-2 py-1 text-sm"
        >
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
        {user.status === "pending_approval" ? (
          <Button variant="secondary" disabled={busy} onClick={() => patch({ approved: true }, `${user.email} is approved and can sign in.`)}>
            Approve
          </Button>
        ) : null}
        {user.status === "disabled" ? (
          <Button variant="secondary" disabled={busy} onClick={() => patch({ disabled: false }, `${user.email} is enabled again.`)} aria-label={`Enable ${user.email}`}>
            Enable
          </Button>
        ) : (
          <Button variant="danger" disabled={busy || isSelf} onClick={() => patch({ disabled: true }, `${user.email} is disabled: their sessions and API tokens no longer work.`)} aria-label={`Disable ${user.email}`}>
            Disable
          </Button>
        )}
        {isSelf ? null : (
          <DeleteButton
            label="Delete"
            title={`Delete ${user.email}?`}
            explanation="Their personal data is removed: name, email, password, sessions, API tokens, SSH keys, project memberships and calendar feeds. Their VPN devices are revoked and the lab directory entry Kiln wrote for them is removed. Past leases and reservations are kept and show “Deleted user”; the audit log keeps the email. Their address can register again as a new account. Someone who holds leases or has reservations not yet over must release or cancel them first."
            url={`/api/v1/users/${user.id}`}
            confirmLabel="Delete account"
            testId={`delete-user-${user.email}`}
          />
        )}
      </div>
      {pendingRole && pendingRole !== user.role ? (
        <RoleChangeDialog
          email={user.email}
          to={pendingRole}
          isSelf={isSelf}
          busy={busy}
          onCancel={() => setPendingRole(null)}
          onConfirm={async (done) => {
            setPendingRole(null);
            await patch({ role: pendingRole }, done);
          }}
        />
      ) : null}
      {error ? (
        <p role="alert" className="max-w-xs text-right text-xs text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function RoleChangeDialog(p: { email: string; to: Role; isSelf: boolean; busy: boolean; onCancel: () => void; onConfirm: (done: string) => void }) {
  const text = roleChangeExplanation(p.email, p.to);
  return (
    <Dialog open onClose={p.onCancel} title={text.title}>
      <div className="space-y-4 text-left">
        <p className="text-sm text-stone-700">{text.body}</p>
        {p.isSelf && p.to === "user" ? <p className="text-sm font-medium text-red-700">This is your own account: you will lose the admin console at once.</p> : null}
        <p className="text-sm text-stone-500">The change is recorded in the audit log.</p>
        <DialogActions>
          <Button type="button" variant="secondary" data-autofocus onClick={p.onCancel}>
            Cancel
          </Button>
          <Button type="button" disabled={p.busy} onClick={() => p.onConfirm(text.done)}>
            {p.to === "admin" ? "Make administrator" : "Make regular user"}
          </Button>
        </DialogActions>
      </div>
    </Dialog>
  );
}
