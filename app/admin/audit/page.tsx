// /admin/audit — who changed what, when, from where; filtered and paged by the server
import Link from "next/link";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { FILTER_CONTROL, FilterBar, FilterField } from "@/components/ui/filters";
import { formatDateTime } from "@/components/ui/format";
import { Pagination } from "@/components/ui/pagination";
import { cleanParams, hrefWith, type SearchParams } from "@/components/ui/query";
import { searchAudit } from "@/lib/audit/audit";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { Table } from "@/components/ui/table";

export const metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

const PER_PAGE = 50;
const TARGET_TYPES = ["host", "lease", "pool", "project", "user"];
const TARGET_LINK: Record<string, (id: string) => string> = {
  host: (id) => `/hosts/${id}`,
  project: (id) => `/admin/projects/${id}`,
};
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePageAdmin("/admin/audit");
  const params = cleanParams(await searchParams);
  // The date inputs give whole days (UTC): "to" includes all of its day.
  const query = {
    ...params,
    ...(params.from && DATE.test(params.from) ? { from: `${params.from}T00:00:00Z` } : {}),
    ...(params.to && DATE.test(params.to) ? { to: `${params.to}T23:59:59.999Z` } : {}),
    per_page: PER_PAGE,
  };
  let result: Awaited<ReturnType<typeof searchAudit>> | null = null;
  let failure = "";
  try {
    result = await searchAudit(getAppDb(), query);
  } catch (e) {
    if (!isAppError(e)) throw e;
    failure = e.message;
  }
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <p className="text-sm text-stone-600">Every change to users, hosts, pools, projects and leases, written with the change itself.</p>
      </div>
      <FilterBar action="/admin/audit" canClear={Object.keys(params).some((k) => k !== "page")}>
        <FilterField id="audit-actor" label="Actor email">
          <input id="audit-actor" name="actor" defaultValue={params.actor ?? ""} placeholder="alice@" className={`${FILTER_CONTROL} w-48`} />
        </FilterField>
        <FilterField id="audit-action" label="Action">
          <input id="audit-action" name="action" defaultValue={params.action ?? ""} placeholder="lease or lease.create" className={`${FILTER_CONTROL} w-44`} />
        </FilterField>
        <FilterField id="audit-target" label="Target">
          <select id="audit-target" name="targetType" defaultValue={params.targetType ?? ""} className={FILTER_CONTROL}>
            <option value="">Anything</option>
            {TARGET_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </FilterField>
        <FilterField id="audit-from" label="From (UTC)">
          <input id="audit-from" name="from" type="date" defaultValue={params.from ?? ""} className={FILTER_CONTROL} />
        </FilterField>
        <FilterField id="audit-to" label="To (UTC)">
          <input id="audit-to" name="to" type="date" defaultValue={params.to ?? ""} className={FILTER_CONTROL} />
        </FilterField>
        {params.targetId ? <input type="hidden" name="targetId" value={params.targetId} /> : null}
      </FilterBar>
      {result === null ? (
        <Alert tone="error">{failure}</Alert>
      ) : (
        <>
          <Table columns={[{ label: "When" }, { label: "Who" }, { label: "Action" }, { label: "What" }]} padding="tight" className="max-w-full" testId="audit-table">
            {result.data.map((a) => {
              const link = a.targetId ? TARGET_LINK[a.targetType]?.(a.targetId) : undefined;
              return (
                <tr key={a.id} className="align-top">
                  <td className="whitespace-nowrap px-3 py-2 text-stone-600">{formatDateTime(a.at)}</td>
                  <td className="px-3 py-2">
                    <Link href={hrefWith("/admin/audit", params, { actor: a.actorEmail ?? undefined })} title={a.actorEmail ?? undefined} className="block max-w-[14rem] truncate hover:underline">
                      {a.actorEmail ?? "—"}
                    </Link>
                    {a.actorIp ? <p className="font-mono text-xs text-stone-500">{a.actorIp}</p> : null}
                  </td>
                  <td className="whitespace-nowrap px-3 py-2">
                    <Link href={hrefWith("/admin/audit", params, { action: a.action })}>
                      <Badge tone={a.action.endsWith("delete") || a.action.includes("release") ? "amber" : "stone"}>{a.action}</Badge>
                    </Link>
                  </td>
                  {/* Summaries hold MACs, URLs and lists without spaces: they wrap anywhere rather than push the table out of its card. */}
                  <td className="min-w-[16rem] px-3 py-2 text-stone-800 [overflow-wrap:anywhere]">
                    {a.summary}
                    {a.targetId ? (
                      <p className="text-xs text-stone-500">
                        {a.targetType}{" "}
                        {link ? (
                          <Link href={link} className="font-mono text-kiln-700 hover:underline">
                            {a.targetId.slice(0, 8)}
                          </Link>
                        ) : (
                          <Link href={hrefWith("/admin/audit", params, { targetType: a.targetType, targetId: a.targetId })} className="font-mono hover:underline">
                            {a.targetId.slice(0, 8)}
                          </Link>
                        )}
                      </p>
                    ) : null}
                  </td>
                </tr>
              );
            })}
            {result.data.length === 0 ? (
              <tr>
                <td colSpan={4} className="px-3 py-10 text-center text-stone-500">
                  No entries match.
                </td>
              </tr>
            ) : null}
          </Table>
          <Pagination base="/admin/audit" params={params} page={result.pagination.page} perPage={PER_PAGE} total={result.pagination.total} />
        </>
      )}
    </div>
  );
}
