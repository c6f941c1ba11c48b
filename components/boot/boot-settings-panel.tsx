"use client";
// For the lease holder: what this host does at its next network boot. Choose templates
// and vars, mark for reinstall or undo, and see the consequence spelled out.
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { callApi } from "../ui/use-api";

export type BootSettingsView = {
  systemTemplateId: string | null;
  unattendedTemplateId: string | null;
  vars: Record<string, unknown>;
  preferredMac: string | null;
  nextBoot: { mode: "local" | "deployment"; summary: string; deploymentId?: string };
};

type TemplateOption = { id: string; name: string; kind: "system" | "unattended"; variables: { name: string; description?: string; default?: string }[] };

export function BootSettingsPanel({ hostId, settings, templates, macs }: { hostId: string; settings: BootSettingsView; templates: TemplateOption[]; macs: string[] }) {
  const router = useRouter();
  const [systemId, setSystemId] = useState(settings.systemTemplateId ?? "");
  const [unattendedId, setUnattendedId] = useState(settings.unattendedTemplateId ?? "");
  const [varsText, setVarsText] = useState(JSON.stringify(settings.vars, null, 2));
  const [mac, setMac] = useState(settings.preferredMac ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [saved, setSaved] = useState(false);

  const declared = useMemo(() => {
    const chosen = templates.filter((t) => t.id === systemId || t.id === unattendedId);
    const seen = new Map<string, { name: string; description?: string; default?: string }>();
    for (const t of chosen) for (const v of t.variables) if (!seen.has(v.name)) seen.set(v.name, v);
    return [...seen.values()];
  }, [templates, systemId, unattendedId]);

  const parsedVars = (): Record<string, unknown> | null => {
    try {
      const v = JSON.parse(varsText || "{}");
      if (v && typeof v === "object" && !Array.isArray(v)) return v;
    } catch {}
    setError({ message: "Vars must be a JSON object, like {\"disk\": \"nvme0n1\"}.", field: "vars" });
    return null;
  };

  const setVar = (name: string, value: string) => {
    const v = (() => {
      try {
        return JSON.parse(varsText || "{}") as Record<string, unknown>;
      } catch {
        return {};
      }
    })();
    if (value === "") delete v[name];
    else v[name] = value;
    setVarsText(JSON.stringify(v, null, 2));
  };

  async function run(fn: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await fn();
      router.refresh();
    } catch (e) {
      const fields = (e as { failure?: { fieldErrors: Record<string, string[]> } }).failure?.fieldErrors ?? {};
      setError({ message: (e as Error).message, field: Object.keys(fields)[0] });
    } finally {
      setBusy(false);
    }
  }

  const save = () =>
    run(async () => {
      const vars = parsedVars();
      if (!vars) throw Object.assign(new Error("Vars must be a JSON object, like {\"disk\": \"nvme0n1\"}."), { failure: { fieldErrors: { vars: ["invalid"] } } });
      await callApi(`/api/v1/hosts/${hostId}/boot`, "PUT", { systemTemplateId: systemId || null, unattendedTemplateId: unattendedId || null, vars, preferredMac: mac || null });
      setSaved(true);
    });

  const currentVars = (() => {
    try {
      return JSON.parse(varsText || "{}") as Record<string, unknown>;
    } catch {
      return {};
    }
  })();

  return (
    <div className="space-y-4">
      <div className={`rounded-md border px-3 py-2 text-sm ${settings.nextBoot.mode === "deployment" ? "border-kiln-500 bg-kiln-50 text-kiln-700" : "border-stone-200 bg-stone-50 text-stone-700"}`} data-testid="next-boot">
        <span className="font-medium">Next network boot:</span> {settings.nextBoot.summary}
      </div>
      <div className="grid gap-3 sm:grid-cols-2">
        <label className="block text-sm font-medium text-stone-800">
          System template (iPXE)
          <select value={systemId} onChange={(e) => setSystemId(e.target.value)} className="mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-2 text-sm">
            <option value="">— choose —</option>
            {templates.filter((t) => t.kind === "system").map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label className="block text-sm font-medium text-stone-800">
          Unattended template
          <select value={unattendedId} onChange={(e) => setUnattendedId(e.target.value)} className="mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-2 text-sm">
            <option value="">— none —</option>
            {templates.filter((t) => t.kind === "unattended").map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {declared.length ? (
        <fieldset className="grid gap-3 rounded-md border border-stone-200 p-3 sm:grid-cols-2">
          <legend className="px-1 text-sm font-medium text-stone-800">Variables these templates use</legend>
          {declared.map((v) => (
            <label key={v.name} className="block text-sm text-stone-800">
              <span className="font-mono">{v.name}</span> <span className="text-xs text-stone-500">{v.description}</span>
              <input
                value={typeof currentVars[v.name] === "string" ? (currentVars[v.name] as string) : currentVars[v.name] === undefined ? "" : JSON.stringify(currentVars[v.name])}
                placeholder={v.default ?? ""}
                onChange={(e) => setVar(v.name, e.target.value)}
                className="mt-1 block w-full rounded-md border border-stone-300 px-2 py-1.5 text-sm"
              />
            </label>
          ))}
        </fieldset>
      ) : null}
      <label className="block text-sm font-medium text-stone-800">
        Vars (JSON object; override the host&apos;s)
        <textarea value={varsText} onChange={(e) => setVarsText(e.target.value)} rows={4} aria-invalid={error?.field === "vars" || undefined} className="mt-1 block w-full rounded-md border border-stone-300 px-3 py-2 font-mono text-xs" />
      </label>
      {macs.length > 1 ? (
        <label className="block text-sm font-medium text-stone-800">
          Preferred interface
          <select value={mac} onChange={(e) => setMac(e.target.value)} className="mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-2 text-sm">
            <option value="">the PXE interface</option>
            {macs.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
      ) : null}
      {error ? <Alert tone="error">{error.message}</Alert> : null}
      {saved ? <Alert tone="success">Boot settings saved.</Alert> : null}
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" onClick={save} disabled={busy}>
          Save settings
        </Button>
        {settings.nextBoot.mode === "local" ? (
          <Button onClick={() => run(() => callApi(`/api/v1/hosts/${hostId}/reinstall`, "POST", {}))} disabled={busy}>
            Mark for reinstall
          </Button>
        ) : (
          <Button variant="danger" onClick={() => run(() => callApi(`/api/v1/hosts/${hostId}/reinstall`, "DELETE"))} disabled={busy}>
            Undo the mark
          </Button>
        )}
      </div>
      <p className="text-xs text-stone-500">
        Marking pins the current versions of the chosen templates and these vars. The machine then network-boots the system template until the install reports
        done; a reboot half-way continues the same run.
      </p>
    </div>
  );
}
