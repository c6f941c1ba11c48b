// /admin/users — list, search, change role, disable/enable and approve users
import Link from "next/link";
import { UserActions } from "@/components/admin/user-actions";
import { Alert } from "@/components/ui/alert";
import { searchUsers } from "@/lib/accounts/admin";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { Table } from "@/components/ui/table";

export const metadata = { title: "Users" };
export const dynamic = "force-dynamic";

const STATUS_LABEL: Record<string, string> = {
  active: "active",
  disabled: "disabled",
  deleted: "deleted",
  pending_verification: "email not confirmed",
  pending_approval: "awaiting approval",
};

// "all" leaves deleted accounts out: they are tombstones kept for the history naming them.
const FILTERS = ["all", "admins", "pending", "disabled", "deleted"] as const;

export default async function AdminUsersPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const { user: me } = await requirePageAdmin("/admin/users");
  const params = await searchParams;
  let result;
  try {
    result = await searchUsers(getAppDb(), params);
  } catch (e) {
    if (!isAppError(e)) throw e;
    return <Alert tone="error">{e.message}</Alert>;
  }
  const { data: users, pagination: { total, page, perPage: pageSize } } = result;
  const filter = params.filter ?? "all";
  const pageHref = (p: number) => `/admin/users?${new URLSearchParams({ ...(params.q ? { q: params.q } : {}), filter, page: String(p) })}`;
  return (
    <div className="space-y-4">
      <div className="flex items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Users</h1>
          <p className="text-sm text-stone-600">{total} in this view</p>
        </div>
        <form role="search" className="flex gap-2" action="/admin/users">
          <label htmlFor="user-search" className="sr-only">
            Search users
          </label>
          <input
            id="user-search"
            name="q"
            defaultValue={params.q ?? ""}
            placeholder="Search email, name or username"
            className="w-72 rounded-md border border-stone-300 bg-white px-3 py-1.5 text-sm"
          />
          <input type="hidden" name="filter" value={filter} />
          <button className="rounded-md bg-white px-3 py-1.5 text-sm font-medium ring-1 ring-stone-300 hover:bg-stone-100">Search</button>
        </form>
      </div>
      <div className="flex gap-2 text-sm">
        {FILTERS.map((f) => (
          <Link
            key={f}
            href={`/admin/users?${new URLSearchParams({ ...(params.q ? { q: params.q } : {}), filter: f })}`}
            aria-current={filter === f ? "page" : undefined}
            className={`rounded-full px-3 py-1 ${filter === f ? "bg-stone-800 text-white" : "bg-white ring-1 ring-stone-300"}`}
          >
            {f}
          </Link>
        ))}
      </div>
      <Table columns={[{ label: "User" }, { label: "Source" }, { label: "Status" }, { label: "Last sign-in" }, { label: "Actions", align: "right" }]}>
        {users.map((u) => (
          <tr key={u.id} data-testid={`user-row-${u.email}`}>
            <td className="px-4 py-3">
              <p className="font-medium">{u.name || u.email}</p>
              <p className="text-xs text-stone-500">{u.email}</p>
            </td>
            <td className="px-4 py-3 text-stone-600">{u.authSource === "ldap" ? `LDAP (${u.ldapUsername})` : "local"}</td>
            <td className="px-4 py-3">
              <span className={`rounded-full px-2 py-0.5 text-xs ${u.status === "active" ? "bg-green-50 text-green-800" : u.status === "deleted" ? "bg-stone-200 text-stone-700" : "bg-amber-50 text-amber-800"}`}>
                {STATUS_LABEL[u.status]}
              </span>
            </td>
            <td className="px-4 py-3 text-stone-600">{u.lastSignInAt ? u.lastSignInAt.slice(0, 16).replace("T", " ") : "never"}</td>
            <td className="px-4 py-3">
              {u.status === "deleted" ? (
                <p className="text-right text-xs text-stone-500">kept for the history of their leases and reservations</p>
              ) : (
                <UserActions user={u} isSelf={u.id === me.id} />
              )}
            </td>
          </tr>
        ))}
        {users.length === 0 ? (
          <tr>
            <td colSpan={5} className="px-4 py-8 text-center text-stone-500">
              No users match.
            </td>
          </tr>
        ) : null}
      </Table>
      {total > pageSize ? (
        <nav aria-label="Pages" className="flex justify-between text-sm">
          {page > 1 ? <Link href={pageHref(page - 1)}>← Previous</Link> : <span />}
          {page * pageSize < total ? <Link href={pageHref(page + 1)}>Next →</Link> : <span />}
        </nav>
      ) : null}
    </div>
  );
}
