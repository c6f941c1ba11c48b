// /admin/leases — everyone's leases, force release, direct allocation
import { AutoRefresh } from "@/components/ui/auto-refresh";
import Link from "next/link";
import { DirectAllocationButton } from "@/components/leases/direct-allocation";
import { ForceReleaseButton } from "@/components/leases/force-release";
import { TimeLeft } from "@/components/leases/time-left";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { formatDateTime } from "@/components/ui/format";
import { Pagination } from "@/components/ui/pagination";
import { cleanParams, hrefWith, type SearchParams } from "@/components/ui/query";
import { actorOf } from "@/lib/access/actor";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { listLeases } from "@/lib/leases/leases";
import { listProjects } from "@/lib/projects/projects";
import { Table } from "@/components/ui/table";

export const metadata = { title: "Leases" };
export const dynamic = "force-dynamic";

const PER_PAGE = 50;
const STATES = [
  { value: "active", label: "Active" },
  { value: "released", label: "Released" },
  { value: "expired", label: "Expired" },
  { value: "all", label: "All" },
];

export default async function AdminLeasesPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const { user } = await requirePageAdmin("/admin/leases");
  const params = cleanParams(await searchParams);
  const state = params.state ?? "active";
  const db = getAppDb();
  const actor = actorOf(user, null);
  const projects = await listProjects(db, actor);
  let result;
  try {
    result = await listLeases(db, actor, {
      scope: "all",
      ...(state === "all" ? {} : { state }),
      ...(params.projectId ? { projectId: params.projectId } : {}),
      page: params.page,
      per_page: PER_PAGE,
    });
  } catch (e) {
    if (!isAppError(e)) throw e;
    return <Alert tone="error">{e.message}</Alert>;
  }
  const project = params.projectId ? projects.find((p) => p.id === params.projectId) : undefined;
  return (
    <div className="space-y-4">
      <AutoRefresh />
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Leases</h1>
          <p className="text-sm text-stone-600">
            {result.pagination.total.toLocaleString("en")} in this view
            {project ? (
              <>
                {" "}
                · project {project.name}{" "}
                <Link href={hrefWith("/admin/leases", params, { projectId: undefined })} className="text-kiln-700 hover:underline">
                  (all projects)
                </Link>
              </>
            ) : null}
          </p>
        </div>
        <DirectAllocationButton projects={projects.map((p) => ({ id: p.id, name: p.name }))} />
      </div>
      <nav aria-label="Lease states" className="flex gap-2 text-sm">
        {STATES.map((s) => (
          <Link
            key={s.value}
            href={hrefWith("/admin/leases", params, { state: s.value === "active" ? undefined : s.value })}
            aria-current={state === s.value ? "page" : undefined}
            className={`rounded-full px-3 py-1 ${state === s.value ? "bg-stone-800 text-white" : "bg-white ring-1 ring-stone-300 hover:bg-stone-100"}`}
          >
            {s.label}
          </Link>
        ))}
      </nav>
      <Table columns={[{ label: "Hosts" }, { label: "Holder" }, { label: "Project · pool", nowrap: true }, { label: "Started" }, { label: "End" }, { label: "Actions", align: "right", srOnly: true }]} padding="tight">
        {result.data.map((l) => {
          const hosts = l.state === "active" ? l.hosts.filter((h) => !h.releasedAt) : l.hosts;
          return (
            <tr key={l.id} data-testid={`lease-row-${l.id}`}>
              <td className="px-3 py-2">
                <span className="flex flex-wrap gap-1">
                  {hosts.map((h) => (
                    <Link key={h.id} href={`/hosts/${h.id}`} className="font-mono text-xs font-medium text-stone-900 hover:text-kiln-700 hover:underline">
                      {h.name}
                    </Link>
                  ))}
                </span>
              </td>
              <td className="px-3 py-2">
                <p className="max-w-[16rem] truncate" title={l.userEmail}>
                  {l.userEmail}
                </p>
              </td>
              <td className="whitespace-nowrap px-3 py-2">
                <Link href={`/admin/projects/${l.projectId}`} className="hover:underline">
                  {l.projectName}
                </Link>
                <span className="text-stone-500"> · {l.poolName ?? "direct"}</span>
              </td>
              <td className="whitespace-nowrap px-3 py-2 text-stone-600">{formatDateTime(l.startsAt)}</td>
              <td className="whitespace-nowrap px-3 py-2">
                {l.state === "active" ? (
                  <TimeLeft endsAt={l.endsAt} />
                ) : (
                  <>
                    <Badge tone={l.state === "expired" ? "amber" : "stone"}>{l.state}</Badge> <span className="text-stone-600">{formatDateTime(l.endedAt)}</span>
                  </>
                )}
                {/* The staged end (lib/leases/staged-end.ts) while it is under way. */}
                {l.end.stage && l.end.stage !== "warned" && l.end.stage !== "returned" ? (
                  <span className="ml-1">
                    <Badge tone="sky">
                      end: {l.end.stage}
                      {l.end.stage === "grace" && l.end.graceEndsAt ? ` until ${formatDateTime(l.end.graceEndsAt)}` : ""}
                    </Badge>
                  </span>
                ) : null}
              </td>
              <td className="px-3 py-2 text-right">{l.state === "active" ? <ForceReleaseButton lease={l} /> : null}</td>
            </tr>
          );
        })}
        {result.data.length === 0 ? (
          <tr>
            <td colSpan={6} className="px-3 py-10 text-center text-stone-500">
              No leases here.
            </td>
          </tr>
        ) : null}
      </Table>
      <Pagination base="/admin/leases" params={params} page={result.pagination.page} perPage={PER_PAGE} total={result.pagination.total} />
    </div>
  );
}
