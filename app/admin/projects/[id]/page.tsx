// /admin/projects/[id] — a project's quotas, usage and members, for administrators
import Link from "next/link";
import { notFound } from "next/navigation";
import { DeleteProjectButton, ProjectForm } from "@/components/projects/project-form";
import { ProjectDetail } from "@/components/projects/project-detail";
import { Card } from "@/components/ui/card";
import { actorOf } from "@/lib/access/actor";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { getProject } from "@/lib/projects/projects";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Project" };
export const dynamic = "force-dynamic";

export default async function AdminProjectPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { user } = await requirePageAdmin(`/admin/projects/${id}`);
  if (!uuidSchema.safeParse(id).success) notFound();
  let project;
  try {
    project = await getProject(getAppDb(), actorOf(user, null), id);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
  const editable = {
    id: project.id,
    name: project.name,
    description: project.description,
    maxHosts: project.maxHosts,
    maxLeaseHours: project.maxLeaseHours,
    maxNodeHoursPerMonth: project.maxNodeHoursPerMonth,
  };
  return (
    <ProjectDetail
      selfId={user.id}
      breadcrumb={
        <Link href="/admin/projects" className="hover:underline">
          Projects
        </Link>
      }
      project={{ ...editable, yourRole: project.yourRole, usage: project.usage, members: project.members.map((m) => ({ ...m, addedAt: m.addedAt.toISOString() })) }}
    >
      <Card title="Name, description and quotas">
        <ProjectForm key={project.updatedAt.toISOString()} project={editable} />
      </Card>
      <div className="flex items-center justify-between gap-4">
        <Link href={`/admin/leases?projectId=${project.id}`} className="text-sm text-kiln-700 hover:underline">
          Leases of this project →
        </Link>
        <DeleteProjectButton project={editable} />
      </div>
    </ProjectDetail>
  );
}
