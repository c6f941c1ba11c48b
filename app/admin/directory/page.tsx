// /admin/directory — the lab directory Kiln writes people's entries into: status, entries, re-sync, link
import { LinkDirectoryEntryButton, ResyncDirectoryButton } from "@/components/admin/directory-actions";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Table, type Column } from "@/components/ui/table";
import { actorOf } from "@/lib/access/actor";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getDirectoryStatusAsAdmin, listDirectoryEntriesAsAdmin } from "@/lib/directory/admin";

export const metadata = { title: "Directory" };
export const dynamic = "force-dynamic";

const COLUMNS: Column[] = [{ label: "uid" }, { label: "Account" }, { label: "Origin" }, { label: "State" }, { label: "Synced" }, { label: "Actions", align: "right" }];

const DESIRED_LABEL = { present: "active", disabled: "locked (account disabled)", absent: "removed (uid kept from reuse)" } as const;

function Check({ ok, label }: { ok: boolean; label: string }) {
  return (
    <li className="flex items-center gap-2">
      <span aria-hidden className={ok ? "text-green-700" : "text-red-700"}>
        {ok ? "✓" : "✗"}
      </span>
      <span>
        {label}: {ok ? "yes" : "no"}
      </span>
    </li>
  );
}

export default async function DirectoryPage() {
  const { user } = await requirePageAdmin("/admin/directory");
  const actor = actorOf(user, null);
  const [status, { entries }] = await Promise.all([getDirectoryStatusAsAdmin(actor), listDirectoryEntriesAsAdmin(getAppDb(), actor)]);
  return (
    <div className="space-y-4">
      <div className="flex items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Directory</h1>
          <p className="text-sm text-stone-600">The entries Kiln writes in the lab&apos;s directory (LDAP) for active local accounts.</p>
        </div>
        {status.configured ? <ResyncDirectoryButton /> : null}
      </div>
      {status.configured ? (
        <section aria-label="Directory status" className="space-y-2 rounded-lg border border-stone-200 bg-white p-4 text-sm">
          <p>
            <span className="font-medium">{status.url}</span> · people under <span className="font-mono">{status.peopleDn}</span>
          </p>
          <ul className="space-y-1" data-testid="directory-status">
            <Check ok label="Configured" />
            <Check ok={status.bindOk} label="Kiln's bind works" />
            <Check ok={status.peopleDnOk} label="People OU reachable" />
          </ul>
          {status.error ? <Alert tone="error">{status.error}</Alert> : null}
        </section>
      ) : (
        <Alert tone="info">
          No directory is configured, so Kiln writes no entries. Set KILN_DIRECTORY_URL, KILN_DIRECTORY_BIND_DN, KILN_DIRECTORY_BIND_PASSWORD and
          KILN_DIRECTORY_PEOPLE_DN (docs/lab-access.md).
        </Alert>
      )}
      <Table columns={COLUMNS}>
        {entries.map((e) => (
          <tr key={e.id} data-testid={`directory-entry-${e.uid}`}>
            <td className="px-4 py-3">
              <p className="font-medium">{e.uid}</p>
              <p className="font-mono text-xs text-stone-500">{e.dn}</p>
              <p className="text-xs text-stone-500">
                uidNumber {e.uidNumber} · gidNumber {e.gidNumber}
              </p>
            </td>
            <td className="px-4 py-3 text-stone-700">{e.email ?? "(deleted)"}</td>
            <td className="px-4 py-3 text-stone-700">{e.origin === "created" ? "created by Kiln" : "linked"}</td>
            <td className="px-4 py-3 text-stone-700">{DESIRED_LABEL[e.desired]}</td>
            <td className="px-4 py-3">
              {e.synced ? <Badge tone="green">synced{e.syncedAt ? ` ${e.syncedAt.slice(0, 16).replace("T", " ")}` : ""}</Badge> : <Badge tone="amber">pending</Badge>}
              {e.lastError ? (
                <p role="alert" className="mt-1 max-w-md text-xs text-red-700">
                  {e.lastError}
                </p>
              ) : null}
            </td>
            <td className="px-4 py-3 text-right">{e.refused && e.email ? <LinkDirectoryEntryButton id={e.id} dn={e.dn} email={e.email} /> : null}</td>
          </tr>
        ))}
        {entries.length === 0 ? (
          <tr>
            <td colSpan={6} className="px-4 py-8 text-center text-stone-500">
              No entries yet: Kiln writes one when a local account becomes active.
            </td>
          </tr>
        ) : null}
      </Table>
    </div>
  );
}
