// /templates/:id?version=N — the editor: source, live preview for a held host, diff, versions
import Link from "next/link";
import { notFound } from "next/navigation";
import { TemplateWorkbench } from "@/components/templates/template-workbench";
import { Alert } from "@/components/ui/alert";
import { actorOf, isAdminUser } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { listHosts } from "@/lib/hosts/hosts";
import { getTemplate } from "@/lib/templates/templates";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Template" };
export const dynamic = "force-dynamic";

export default async function TemplatePage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ version?: string; saved?: string }> }) {
  const { id } = await params;
  const { version, saved } = await searchParams;
  const { user } = await requirePageUser(`/templates/${id}`);
  if (!uuidSchema.safeParse(id).success) notFound();
  const db = getAppDb();
  const actor = actorOf(user, null);
  let template;
  try {
    template = await getTemplate(db, actor, id, version ? Number(version) || undefined : undefined);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
  // Previews render for hosts the user holds (admins: any host; the first page is enough).
  const held = await listHosts(db, isAdminUser(user) ? { ...actor, user: { ...user, role: "user" } } : actor, { per_page: 200 });
  return (
    <div className="mx-auto max-w-7xl space-y-4 px-4 py-8">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <p className="text-sm text-stone-500">
            <Link href="/templates" className="hover:underline">
              Templates
            </Link>{" "}
            / {template.kind} · {template.format}
          </p>
          <h1 className="text-2xl font-semibold">
            {template.name} <span className="text-base font-normal text-stone-500">version {template.version}{template.version !== template.latestVersion ? ` (latest is ${template.latestVersion})` : ""}</span>
          </h1>
        </div>
        <div className="flex items-center gap-3 text-sm">
          <label>
            Version{" "}
            <select defaultValue={template.version} className="rounded-md border border-stone-300 bg-white px-2 py-1" aria-label="Open version" disabled>
              {template.versions.map((v) => (
                <option key={v.version}>{v.version}</option>
              ))}
            </select>
          </label>
          <Link href={`/templates/new?from=${template.id}`} className="rounded-md px-3 py-1.5 ring-1 ring-stone-300 hover:bg-stone-100">
            Copy to a new template
          </Link>
        </div>
      </div>
      {saved ? <Alert tone="success">Saved as version {saved}.</Alert> : null}
      <TemplateWorkbench
        key={`${template.id}-${template.version}`}
        template={{ ...template, versions: template.versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })) }}
        hosts={held.data.map((h) => ({ id: h.id, name: h.name }))}
      />
      <section>
        <h2 className="mb-2 text-sm font-semibold uppercase tracking-wide text-stone-500">History</h2>
        <ul className="divide-y divide-stone-100 rounded-lg border border-stone-200 bg-white text-sm">
          {template.versions.map((v) => (
            <li key={v.version} className="flex gap-4 px-4 py-2">
              <Link href={`/templates/${template.id}?version=${v.version}`} className="w-12 font-medium text-kiln-700 hover:underline">
                v{v.version}
              </Link>
              <span className="flex-1 text-stone-700">{v.message || "—"}</span>
              <span className="text-stone-500">{v.authorEmail ?? "Kiln"}</span>
              <span className="text-stone-500">{v.createdAt.toISOString().slice(0, 16).replace("T", " ")}</span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
