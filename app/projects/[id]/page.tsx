// /projects/[id] — a project for its members: usage, quotas, members; leaders manage members
import Link from "next/link";
import { notFound } from "next/navigation";
import { ProjectDetail } from "@/components/projects/project-detail";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { getProject } from "@/lib/projects/projects";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Project" };
export const dynamic = "force-dynamic";

export default async function ProjectPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { user } = await requirePageUser(`/projects/${id}`);
  if (!uuidSchema.safeParse(id).success) notFound();
  let project;
  try {
    project = await getProject(getAppDb(), actorOf(user, null), id);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
  return (
    <div className="mx-auto max-w-6xl px-4 py-8">
      <ProjectDetail
        selfId={user.id}
        breadcrumb={
          <Link href="/" className="hover:underline">
            Dashboard
          </Link>
        }
        project={{
          id: project.id,
          name: project.name,
          description: project.description,
          maxHosts: project.maxHosts,
          maxLeaseHours: project.maxLeaseHours,
          maxNodeHoursPerMonth: project.maxNodeHoursPerMonth,
          yourRole: project.yourRole,
          usage: project.usage,
          members: project.members.map((m) => ({ ...m, addedAt: m.addedAt.toISOString() })),
        }}
      />
    </div>
  );
}
