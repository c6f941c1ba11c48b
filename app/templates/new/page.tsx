// /templates/new?from=<id> — create a template, optionally as a copy of one the user may read
import { NewTemplateForm } from "@/components/templates/new-template-form";
import { Card } from "@/components/ui/card";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getMyProjects } from "@/lib/projects/projects";
import { getTemplate } from "@/lib/templates/templates";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "New template" };
export const dynamic = "force-dynamic";

export default async function NewTemplatePage({ searchParams }: { searchParams: Promise<{ from?: string }> }) {
  const { user } = await requirePageUser("/templates/new");
  const { from } = await searchParams;
  const db = getAppDb();
  const source = from && uuidSchema.safeParse(from).success ? await getTemplate(db, actorOf(user, null), from).catch(() => null) : null;
  const projects = (await getMyProjects(db, user.id)).map((p) => ({ id: p.projectId, name: p.name }));
  return (
    <div className="mx-auto max-w-2xl px-4 py-8">
      <h1 className="mb-4 text-2xl font-semibold">{source ? `Copy “${source.name}”` : "New template"}</h1>
      <Card>
        <NewTemplateForm copyFrom={source ? { name: source.name, kind: source.kind, format: source.format, source: source.source } : null} projects={projects} />
      </Card>
    </div>
  );
}
