// /admin/projects — every project with its quotas and what it uses
import Link from "next/link";
import { NewProjectButton } from "@/components/projects/project-form";
import { formatHours, plural } from "@/components/ui/format";
import { actorOf } from "@/lib/access/actor";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listProjects } from "@/lib/projects/projects";
import { Table } from "@/components/ui/table";

export const metadata = { title: "Projects" };
export const dynamic = "force-dynamic";

function usageText(used: number, limit: number | null, unit: string) {
  return limit === null ? `${used.toLocaleString("en")} ${unit}` : `${used.toLocaleString("en")} / ${limit.toLocaleString("en")} ${unit}`;
}

function hostsText(used: number, limit: number | null) {
  return limit === null ? plural(used, "host") : `${used.toLocaleString("en")} / ${plural(limit, "host")}`;
}

export default async function AdminProjectsPage() {
  const { user } = await requirePageAdmin("/admin/projects");
  const projects = await listProjects(getAppDb(), actorOf(user, null));
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Projects</h1>
          <p className="text-sm text-stone-600">Every lease is charged to a project; its quotas bound what its members hold.</p>
        </div>
        <NewProjectButton />
      </div>
      <Table columns={[{ label: "Project" }, { label: "Hosts held" }, { label: "Node-hours this month" }, { label: "Longest lease" }]}>
        {projects.map((p) => {
          const full = p.maxHosts !== null && p.usage.activeHosts >= p.maxHosts;
          return (
            <tr key={p.id} data-testid={`project-row-${p.name}`}>
              <td className="px-4 py-3">
                <Link href={`/admin/projects/${p.id}`} className="font-medium text-stone-900 hover:text-kiln-700 hover:underline">
                  {p.name}
                </Link>
                {p.description ? <p className="text-xs text-stone-500">{p.description}</p> : null}
              </td>
              <td className={`px-4 py-3 ${full ? "font-medium text-red-700" : ""}`}>{hostsText(p.usage.activeHosts, p.maxHosts)}</td>
              <td className="px-4 py-3">{usageText(p.usage.nodeHoursThisMonth, p.maxNodeHoursPerMonth, "h")}</td>
              <td className="px-4 py-3">{formatHours(p.maxLeaseHours)}</td>
            </tr>
          );
        })}
        {projects.length === 0 ? (
          <tr>
            <td colSpan={4} className="px-4 py-10 text-center text-stone-500">
              No projects yet. Researchers need one before they can lease machines.
            </td>
          </tr>
        ) : null}
      </Table>
    </div>
  );
}
