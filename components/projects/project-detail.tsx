import type { ReactNode } from "react";
import { Badge } from "../ui/badge";
import { Card } from "../ui/card";
import { ProjectMembers, type MemberView } from "./project-members";
import { ProjectUsagePanel, type ProjectQuotas, type ProjectUsage } from "./project-usage";

export type ProjectDetailView = ProjectQuotas & {
  id: string;
  name: string;
  description: string;
  yourRole: "member" | "leader" | "admin";
  usage: ProjectUsage;
  members: MemberView[];
};

/** A project as its members see it; `children` adds the admin's controls. */
export function ProjectDetail({ project, selfId, breadcrumb, children }: { project: ProjectDetailView; selfId: string; breadcrumb: ReactNode; children?: ReactNode }) {
  const canManage = project.yourRole !== "member";
  return (
    <div className="space-y-6">
      <div>
        <p className="text-sm text-stone-500">{breadcrumb} /</p>
        <div className="mt-1 flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold">{project.name}</h1>
          <Badge tone={project.yourRole === "member" ? "stone" : "kiln"}>{project.yourRole === "admin" ? "administrator" : `you are a ${project.yourRole}`}</Badge>
        </div>
        {project.description ? <p className="mt-1 text-sm text-stone-600">{project.description}</p> : null}
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Usage and quotas">
          <ProjectUsagePanel quotas={project} usage={project.usage} />
        </Card>
        <Card title={`Members (${project.members.length})`} description={canManage ? "Members can lease machines charged to this project; leaders can also manage members." : "Leaders of this project manage its members."}>
          <ProjectMembers projectId={project.id} members={project.members} canManage={canManage} selfId={selfId} />
        </Card>
      </div>
      {children}
    </div>
  );
}
