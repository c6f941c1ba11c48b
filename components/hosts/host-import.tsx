"use client";
// Bulk import: paste or upload CSV or JSON, preview (the server checks every row and writes
// nothing), then import all of it in one request. Nothing is imported while any row is wrong.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Table, type Column } from "../ui/table";
import { TextAreaField } from "../ui/field";
import { toast } from "../ui/toast";
import { ApiError, callApi } from "../ui/use-api";
import type { HostImportResult } from "@/lib/hosts/import";

const EXAMPLE = `name,macs,pool,tags,site,power_driver,power_address,power_username,notes
node-01,52:54:00:aa:00:01,general,gpu rack:b2,,ipmi,10.0.0.11,admin,
node-02,52:54:00:aa:00:02;52:54:00:aa:00:12,general,,,wol,,,"two NICs, first boots"`;

type RowError = { row: number; line?: number; text: string };
type Failure = { message: string; rowErrors: RowError[]; errorCount: number };

/** JSON when it looks like JSON (an array of hosts, or `{ hosts: [...] }`), CSV otherwise. */
export function importBodyOf(text: string): { csv: string } | { hosts: unknown[] } {
  const t = text.trim();
  if (t.startsWith("[") || t.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch (e) {
      throw new Error(`This looks like JSON but does not parse: ${(e as Error).message}`);
    }
    const hosts = Array.isArray(parsed) ? parsed : (parsed as { hosts?: unknown }).hosts;
    if (!Array.isArray(hosts)) throw new Error("JSON must be an array of hosts, or an object with a hosts array.");
    return { hosts };
  }
  return { csv: text };
}

export function HostImport() {
  const router = useRouter();
  const [text, setText] = useState("");
  const [preview, setPreview] = useState<HostImportResult | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState<"preview" | "import" | null>(null);

  const send = async (dryRun: boolean) => {
    setFailure(null);
    setBusy(dryRun ? "preview" : "import");
    try {
      const body = { ...importBodyOf(text), dryRun };
      const result = await callApi<HostImportResult>("/api/v1/hosts/import", "POST", body);
      if (dryRun) setPreview(result);
      else {
        toast(`Imported ${result.imported.toLocaleString("en")} hosts.`);
        router.push("/admin/hosts");
        router.refresh();
      }
    } catch (e) {
      setPreview(null);
      const details = e instanceof ApiError ? detailsOf(e) : null;
      setFailure({ message: (e as Error).message, rowErrors: details?.rowErrors ?? [], errorCount: details?.errorCount ?? 0 });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="space-y-4">
      <div className="space-y-2">
        <label className="inline-flex cursor-pointer items-center gap-2 rounded-md bg-white px-3 py-1.5 text-sm font-medium ring-1 ring-stone-300 hover:bg-stone-100">
          Choose a file…
          <input
            type="file"
            accept=".csv,.json,text/csv,application/json,text/plain"
            className="sr-only"
            aria-label="Upload a CSV or JSON file"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              setText(await file.text());
              setPreview(null);
              setFailure(null);
            }}
          />
        </label>
        <TextAreaField
          name="import"
          label="Hosts (CSV or JSON)"
          rows={12}
          value={text}
          placeholder={EXAMPLE}
          onChange={(e) => {
            setText(e.target.value);
            setPreview(null);
          }}
          hint="One host a line after the header. macs: one or more, separated by spaces or semicolons; the first is the one it boots from. Pools and sites by name. power_<parameter> columns set the driver's settings; passwords are not taken from CSV (set them on the host page, or send JSON with power.secrets)."
        />
      </div>
      {failure ? (
        <div className="space-y-2" data-testid="import-errors">
          <Alert tone="error">{failure.message}</Alert>
          {failure.rowErrors.length > 1 ? (
            <div className="max-h-64 overflow-y-auto rounded-md border border-red-200 bg-white p-3">
              <ul className="space-y-1 font-mono text-xs text-red-800">
                {failure.rowErrors.map((r, n) => (
                  <li key={n}>{r.text}</li>
                ))}
              </ul>
              {failure.errorCount > failure.rowErrors.length ? <p className="mt-2 text-xs text-stone-600">…and {failure.errorCount - failure.rowErrors.length} more.</p> : null}
            </div>
          ) : null}
        </div>
      ) : null}
      {preview ? <Preview result={preview} /> : null}
      <div className="flex gap-2">
        <Button type="button" variant="secondary" disabled={!text.trim() || busy !== null} onClick={() => send(true)}>
          {busy === "preview" ? "Checking…" : "Preview"}
        </Button>
        <Button type="button" disabled={!preview || busy !== null} onClick={() => send(false)}>
          {busy === "import" ? "Importing…" : preview ? `Import ${preview.count.toLocaleString("en")} hosts` : "Import"}
        </Button>
      </div>
    </div>
  );
}

/** Every row's problem, from the error body's details. */
function detailsOf(e: ApiError): { rowErrors: RowError[]; errorCount: number } | null {
  const d = e.failure.details as { rowErrors?: RowError[]; errorCount?: number } | undefined;
  return d?.rowErrors ? { rowErrors: d.rowErrors, errorCount: d.errorCount ?? d.rowErrors.length } : null;
}

const PREVIEW_COLUMNS: Column[] = ["Row", "Name", "MACs", "Pool", "Site", "Tags", "Power", "State"].map((label) => ({ label }));

function Preview({ result }: { result: HostImportResult }) {
  return (
    <section aria-label="Import preview" className="space-y-2">
      <Alert tone="success">
        All {result.count.toLocaleString("en")} hosts are valid. Nothing has been written yet: press Import to add them.
      </Alert>
      <Table columns={PREVIEW_COLUMNS} padding="tight" size="xs" compact stickyHeader className="max-h-80 overflow-y-auto">
        {result.preview.map((r) => (
          <tr key={r.row}>
            <td className="px-3 py-1 text-stone-500">{r.row}</td>
            <td className="px-3 py-1 font-medium">{r.name}</td>
            <td className="px-3 py-1 font-mono">{r.macs.join(" ")}</td>
            <td className="px-3 py-1">{r.pool ?? "—"}</td>
            <td className="px-3 py-1">{r.site ?? "default"}</td>
            <td className="px-3 py-1">{r.tags.join(", ")}</td>
            <td className="px-3 py-1">
              {r.powerDriver}
              {r.secretsSet.length ? ` (${r.secretsSet.join(", ")} set)` : ""}
            </td>
            <td className="px-3 py-1">{r.state}</td>
          </tr>
        ))}
      </Table>
      {result.count > result.preview.length ? <p className="text-xs text-stone-500">The first {result.preview.length} of {result.count.toLocaleString("en")} rows are shown.</p> : null}
    </section>
  );
}
