// /templates — boot and install templates the user may use: built-ins, their own, their projects'
import Link from "next/link";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listTemplates } from "@/lib/templates/templates";

export const metadata = { title: "Templates" };
export const dynamic = "force-dynamic";

export default async function TemplatesPage() {
  const { user } = await requirePageUser("/templates");
  const templates = await listTemplates(getAppDb(), actorOf(user, null));
  const groups = [
    { title: "System templates (iPXE)", items: templates.filter((t) => t.kind === "system") },
    { title: "Unattended install templates", items: templates.filter((t) => t.kind === "unattended") },
  ];
  return (
    <div className="mx-auto max-w-6xl space-y-6 px-4 py-8">
      <div className="flex items-end justify-between">
        <div>
          <h1 className="text-2xl font-semibold">Templates</h1>
          <p className="text-sm text-stone-600">Jinja-style templates, rendered per machine in a sandbox. Built-ins are read-only: copy one to change it.</p>
        </div>
        <Link href="/templates/new" className="rounded-md bg-kiln-600 px-3.5 py-2 text-sm font-semibold text-white hover:bg-kiln-700">
          New template
        </Link>
      </div>
      {groups.map((g) => (
        <section key={g.title}>
          <h2 className="mb-2 text-sm font-semibold uppercase tracking-wide text-stone-500">{g.title}</h2>
          <ul className="divide-y divide-stone-100 overflow-hidden rounded-lg border border-stone-200 bg-white">
            {g.items.map((t) => (
              <li key={t.id} className="flex items-center gap-4 px-4 py-3">
                <div className="min-w-0 flex-1">
                  <Link href={`/templates/${t.id}`} className="font-medium text-stone-900 hover:underline">
                    {t.name}
                  </Link>
                  <p className="truncate text-xs text-stone-500">{t.description || t.format}</p>
                </div>
                <span className="rounded-full bg-stone-100 px-2 py-0.5 text-xs text-stone-700">{t.format}</span>
                <span className="w-28 text-right text-xs text-stone-500">{t.isBuiltin ? "built-in" : t.visibility === "private" ? `private · ${t.ownerEmail ?? ""}` : t.visibility}</span>
                <span className="w-10 text-right text-xs text-stone-500">v{t.latestVersion}</span>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
