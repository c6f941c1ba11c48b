"use client";
// The template editor: CodeMirror on the left, a live preview rendered on the server for
// a host the user holds on the right, errors with line and column (the line marked in the
// editor, "did you mean …?" for an undefined name), the variables the template can use for
// that host (click to insert), a diff against the saved version, and "save as new version".
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { callApi } from "../ui/use-api";
import { CodeEditor, type CodeEditorHandle } from "./code-editor";
import { DiffView } from "./diff-view";
import { VariablesPanel } from "./variables-panel";
import type { ContextVariable } from "@/boot/context";
import { fixFor } from "@/boot/template/suggest";

type Preview =
  | { ok: true; output: string; warnings: string[]; bytes: number; variables: ContextVariable[] }
  | { ok: false; error: { message: string; line: number; column: number; kind: string; suggestions: string[]; missing: string | null }; variables: ContextVariable[] };

export type WorkbenchTemplate = {
  id: string;
  name: string;
  kind: "system" | "unattended";
  format: string;
  version: number;
  latestVersion: number;
  source: string;
  canEdit: boolean;
  isBuiltin: boolean;
  versions: { version: number; message: string; createdAt: string; authorEmail: string | null }[];
  /** An unattended template's default post-install repository (docs/post-install.md). */
  postInstall?: { gitUrl: string; ref: string; path: string; kind: "script" | "ansible-playbook" } | null;
};

export function TemplateWorkbench({ template, hosts }: { template: WorkbenchTemplate; hosts: { id: string; name: string }[] }) {
  const router = useRouter();
  const editor = useRef<CodeEditorHandle | null>(null);
  const [source, setSource] = useState(template.source);
  const [debounced, setDebounced] = useState(template.source);
  const [hostId, setHostId] = useState(hosts[0]?.id ?? "");
  const [varsText, setVarsText] = useState("{}");
  const [tab, setTab] = useState<"preview" | "diff">("preview");
  const [message, setMessage] = useState("");
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [compareTo, setCompareTo] = useState(Math.max(1, template.version - 1));
  const [pi, setPi] = useState({ gitUrl: template.postInstall?.gitUrl ?? "", ref: template.postInstall?.ref ?? "main", path: template.postInstall?.path ?? "", kind: template.postInstall?.kind ?? "script" });
  const piValue = pi.gitUrl.trim() ? { gitUrl: pi.gitUrl.trim(), ref: pi.ref.trim() || "main", path: pi.path.trim(), kind: pi.kind } : null;
  const piChanged = JSON.stringify(piValue) !== JSON.stringify(template.postInstall ?? null);

  useEffect(() => {
    const t = setTimeout(() => setDebounced(source), 350);
    return () => clearTimeout(t);
  }, [source]);

  const vars = useMemo((): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } => {
    try {
      const v = JSON.parse(varsText || "{}");
      return v && typeof v === "object" && !Array.isArray(v) ? { ok: true, value: v } : { ok: false, message: "Vars must be a JSON object, like {\"disk\": \"sda\"}." };
    } catch (e) {
      return { ok: false, message: `Vars are not valid JSON: ${(e as Error).message}` };
    }
  }, [varsText]);

  const preview = useQuery({
    queryKey: ["preview", template.id, hostId, debounced, vars.ok ? JSON.stringify(vars.value) : "invalid"],
    enabled: Boolean(hostId) && vars.ok,
    queryFn: () => callApi<Preview>("/api/v1/templates/preview", "POST", { hostId, templateId: template.id, source: debounced, format: template.format, vars: vars.ok ? vars.value : {} }),
    placeholderData: (prev) => prev,
  });

  const diff = useQuery({
    queryKey: ["diff", template.id, compareTo, template.version],
    enabled: tab === "diff" && template.versions.length > 1,
    queryFn: () => callApi<{ diff: string }>(`/api/v1/templates/${template.id}/diff?from=${compareTo}&to=${template.version}`, "GET"),
  });

  const dirty = source !== template.source || piChanged;

  async function save() {
    setSaving(true);
    setSaveError(null);
    try {
      const r = await callApi<{ version: number }>(`/api/v1/templates/${template.id}/versions`, "POST", { source, message, ...(template.kind === "unattended" ? { postInstall: piValue } : {}) });
      setMessage("");
      router.push(`/templates/${template.id}?saved=${r.version}`);
      router.refresh();
    } catch (e) {
      setSaveError((e as Error).message);
    } finally {
      setSaving(false);
    }
  }

  const p = preview.data;
  // The error's line stays marked in the editor until a preview renders without one.
  const errorLine = p && !p.ok && p.error.kind !== "limit" ? p.error.line : null;
  useEffect(() => {
    editor.current?.markLine(errorLine);
  }, [errorLine, p]);

  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <div className="flex min-h-[32rem] flex-col gap-3">
        <CodeEditor initial={template.source} onChange={setSource} readOnly={!template.canEdit} label={`Template ${template.name}`} handleRef={editor} />
        {template.kind === "unattended" && (template.canEdit || template.postInstall) ? (
          <fieldset disabled={!template.canEdit} className="grid gap-2 rounded-md border border-stone-200 p-3 text-sm sm:grid-cols-2" aria-label="Default post-install repository">
            <legend className="px-1 font-medium text-stone-800">Default post-install repository (optional)</legend>
            <p className="text-xs text-stone-500 sm:col-span-2">Runs use it unless they name another; the template renders it through deployment.post_install.</p>
            {(
              [
                ["gitUrl", "Repository URL", "https://git.example.org/lab/setup.git"],
                ["ref", "Branch, tag or commit", "main"],
                ["path", "Script or playbook", "setup.sh"],
              ] as const
            ).map(([key, label, placeholder]) => (
              <label key={key} className="block text-stone-800">
                {label}
                <input value={pi[key]} placeholder={placeholder} onChange={(e) => setPi({ ...pi, [key]: e.target.value })} className="mt-1 block w-full rounded-md border border-stone-300 px-2 py-1.5" />
              </label>
            ))}
            <label className="block text-stone-800">
              Run it with
              <select value={pi.kind} onChange={(e) => setPi({ ...pi, kind: e.target.value as "script" | "ansible-playbook" })} className="mt-1 block w-full rounded-md border border-stone-300 px-2 py-1.5">
                <option value="script">sh</option>
                <option value="ansible-playbook">ansible-playbook</option>
              </select>
            </label>
          </fieldset>
        ) : null}
        {template.canEdit ? (
          <div className="flex flex-wrap items-end gap-2">
            <div className="min-w-48 flex-1">
              <label htmlFor="version-message" className="block text-sm font-medium text-stone-800">
                What changed (optional)
              </label>
              <input id="version-message" value={message} onChange={(e) => setMessage(e.target.value)} className="mt-1 block w-full rounded-md border border-stone-300 px-3 py-2 text-sm" />
            </div>
            <Button onClick={save} disabled={!dirty || saving}>
              {saving ? "Saving…" : `Save as version ${template.latestVersion + 1}`}
            </Button>
          </div>
        ) : (
          <p className="text-sm text-stone-600">{template.isBuiltin ? "Built-in templates are read-only: create a new template from this one to change it." : "Only the owner can change this template."}</p>
        )}
        {saveError ? <Alert tone="error">{saveError}</Alert> : null}
      </div>

      <div className="flex min-w-0 flex-col gap-3">
        <div role="tablist" className="flex gap-1 text-sm">
          {(["preview", "diff"] as const).map((t) => (
            <button key={t} role="tab" aria-selected={tab === t} onClick={() => setTab(t)} className={`rounded-md px-3 py-1.5 font-medium ${tab === t ? "bg-stone-800 text-white" : "bg-white ring-1 ring-stone-300"}`}>
              {t === "preview" ? "Live preview" : "Diff"}
            </button>
          ))}
        </div>
        {tab === "preview" ? (
          <>
            <div className="grid gap-2 sm:grid-cols-2">
              <div>
                <label htmlFor="preview-host" className="block text-sm font-medium text-stone-800">
                  Render for host
                </label>
                <select id="preview-host" value={hostId} onChange={(e) => setHostId(e.target.value)} className="mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-2 text-sm">
                  {hosts.length === 0 ? <option value="">(you hold no hosts)</option> : null}
                  {hosts.map((h) => (
                    <option key={h.id} value={h.id}>
                      {h.name}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label htmlFor="preview-vars" className="block text-sm font-medium text-stone-800">
                  Vars (JSON)
                </label>
                <input id="preview-vars" value={varsText} onChange={(e) => setVarsText(e.target.value)} className="mt-1 block w-full rounded-md border border-stone-300 px-3 py-2 font-mono text-xs" aria-invalid={!vars.ok || undefined} />
              </div>
            </div>
            {!vars.ok ? <Alert tone="error">{vars.message}</Alert> : null}
            {hosts.length === 0 ? <Alert tone="info">Lease a host to preview templates with its facts and your SSH keys.</Alert> : null}
            {preview.error ? <Alert tone="error">{preview.error.message}</Alert> : null}
            {p && !p.ok ? (
              <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="preview-error">
                <button className="font-mono underline" onClick={() => editor.current?.goTo(p.error.line, p.error.column)}>
                  line {p.error.line}, column {p.error.column}
                </button>
                : {p.error.message}
                {template.canEdit && p.error.missing
                  ? p.error.suggestions.map((s) => {
                      const fix = fixFor(p.error.missing!, s);
                      return fix ? (
                        <button
                          key={s}
                          type="button"
                          onClick={() => editor.current?.replaceAt(p.error.line, p.error.column, fix.length, fix.text)}
                          className="ml-2 rounded bg-white px-2 py-0.5 font-mono text-xs text-red-800 ring-1 ring-red-300 hover:bg-red-100"
                        >
                          Use {s}
                        </button>
                      ) : null;
                    })
                  : null}
              </div>
            ) : null}
            <VariablesPanel
              variables={hostId ? (p?.variables ?? null) : null}
              hostName={hosts.find((h) => h.id === hostId)?.name ?? null}
              canInsert={template.canEdit}
              onInsert={(name) => editor.current?.insert(`{{ ${name} }}`)}
            />
            {p && p.ok && p.warnings.length ? (
              <div className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
                <p className="font-medium">The output may not work as {template.format}:</p>
                <ul className="list-disc pl-5">
                  {p.warnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              </div>
            ) : null}
            <pre className="min-h-64 flex-1 overflow-auto rounded-md border border-stone-200 bg-stone-900 p-3 font-mono text-xs leading-5 text-stone-100" data-testid="preview-output" aria-live="polite" aria-busy={preview.isFetching}>
              {p && p.ok ? p.output : " "}
            </pre>
          </>
        ) : template.versions.length > 1 ? (
          <>
            <label className="text-sm">
              Compare version{" "}
              <select value={compareTo} onChange={(e) => setCompareTo(Number(e.target.value))} className="rounded-md border border-stone-300 bg-white px-2 py-1 text-sm">
                {template.versions
                  .filter((v) => v.version !== template.version)
                  .map((v) => (
                    <option key={v.version} value={v.version}>
                      {v.version}
                    </option>
                  ))}
              </select>{" "}
              with version {template.version}
            </label>
            {diff.data ? <DiffView diff={diff.data.diff} /> : diff.error ? <Alert tone="error">{diff.error.message}</Alert> : <p className="text-sm text-stone-500">Loading…</p>}
          </>
        ) : (
          <p className="text-sm text-stone-500">There is only one version so far.</p>
        )}
      </div>
    </div>
  );
}
