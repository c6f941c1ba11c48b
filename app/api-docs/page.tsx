// /api-docs — the REST API reference, rendered from the same OpenAPI document as /api/v1/openapi.json.
// Public, like the document itself: it describes requests, never data.
import Link from "next/link";
import { Badge, type Tone } from "@/components/ui/badge";
import { Table, type Column } from "@/components/ui/table";
import { getOpenApiDocument, type OpenApiOperation, type OpenApiParameter } from "@/lib/api/openapi";

export const metadata = { title: "API reference" };

const METHOD_TONE: Record<string, Tone> = { get: "sky", post: "green", patch: "amber", delete: "red" };
const AUTH_LABEL: Record<OpenApiOperation["x-kiln-auth"], { label: string; tone: Tone }> = {
  public: { label: "no sign-in", tone: "stone" },
  user: { label: "signed in", tone: "indigo" },
  admin: { label: "administrators", tone: "kiln" },
};

type Schema = Record<string, unknown>;

/** The UUID regex zod emits next to `format: "uuid"` says nothing a reader needs; drop it for display. */
function readable(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(readable);
  if (!schema || typeof schema !== "object") return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema as Schema)) {
    if (k === "pattern" && (schema as Schema).format === "uuid") continue;
    out[k] = readable(v);
  }
  return out;
}

/** A one-line type for a parameter: `string (uuid)`, `"asc" | "desc"`, `integer ≥ 1, default 1`. */
function typeOf(s: Schema): string {
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  if (Array.isArray(s.anyOf)) return (s.anyOf as Schema[]).map(typeOf).join(" or ");
  if ("const" in s) return JSON.stringify(s.const);
  const bits = [String(s.type ?? "any") + (s.format ? ` (${String(s.format)})` : "")];
  if (typeof s.minimum === "number") bits.push(`≥ ${s.minimum}`);
  if (typeof s.maximum === "number" && s.maximum < Number.MAX_SAFE_INTEGER) bits.push(`≤ ${s.maximum}`);
  if (typeof s.maxLength === "number") bits.push(`at most ${s.maxLength} characters`);
  return bits.join(", ");
}

/** Descriptions use `backticks` for code, as in the JSON document; show them as code. */
function Prose({ text }: { text: string }) {
  return (
    <>
      {text.split(/`([^`]+)`/).map((part, i) =>
        i % 2 ? (
          <code key={i} className="rounded bg-stone-100 px-1 font-mono text-[0.85em] text-stone-800">
            {part}
          </code>
        ) : (
          part
        ),
      )}
    </>
  );
}

function anchorOf(method: string, path: string): string {
  return `${method}-${path.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
}

const PARAMETER_COLUMNS: Column[] = [{ label: "Name" }, { label: "In" }, { label: "Type" }, { label: "Notes" }];

function Parameters({ parameters }: { parameters: OpenApiParameter[] }) {
  return (
    <Table columns={PARAMETER_COLUMNS} frame="bare" padding="flush" compact className="mt-2">
      {parameters.map((p) => (
        <tr key={`${p.in}-${p.name}`}>
          <td className="py-1 pr-4 font-mono text-xs">
            {p.name}
            {p.required ? <span className="text-red-700" title="required">*</span> : null}
          </td>
          <td className="py-1 pr-4 text-stone-600">{p.in}</td>
          <td className="py-1 pr-4 font-mono text-xs text-stone-700">{typeOf(p.schema)}</td>
          <td className="py-1 pr-4 text-stone-600">
            <Prose text={[p.description, p.schema.default !== undefined ? `default \`${JSON.stringify(p.schema.default)}\`` : ""].filter(Boolean).join("; ")} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

function Operation({ method, path, op }: { method: string; path: string; op: OpenApiOperation }) {
  const auth = AUTH_LABEL[op["x-kiln-auth"]];
  const body = op.requestBody?.content["application/json"].schema;
  return (
    <article id={anchorOf(method, path)} data-testid={`op-${method.toUpperCase()} ${path}`} className="rounded-lg border border-stone-200 bg-white p-4 shadow-sm">
      <header className="flex flex-wrap items-center gap-3">
        <Badge tone={METHOD_TONE[method] ?? "stone"}>{method.toUpperCase()}</Badge>
        <code className="font-mono text-sm font-semibold text-stone-900">{path}</code>
        <Badge tone={auth.tone}>{auth.label}</Badge>
      </header>
      <h3 className="mt-2 font-medium text-stone-900">{op.summary}</h3>
      {op.description ? (
        <p className="mt-1 text-sm text-stone-600">
          <Prose text={op.description} />
        </p>
      ) : null}
      {op.parameters?.length ? (
        <section className="mt-3">
          <h4 className="text-xs font-semibold uppercase tracking-wide text-stone-500">Parameters</h4>
          <Parameters parameters={op.parameters} />
        </section>
      ) : null}
      {body ? (
        <section className="mt-3">
          <h4 className="text-xs font-semibold uppercase tracking-wide text-stone-500">
            Request body (JSON{op.requestBody!.required ? "" : ", optional"})
          </h4>
          <pre className="mt-2 max-h-96 overflow-auto rounded-md bg-stone-900 p-3 text-xs leading-relaxed text-stone-100">{JSON.stringify(readable(body), null, 2)}</pre>
        </section>
      ) : null}
      <section className="mt-3">
        <h4 className="text-xs font-semibold uppercase tracking-wide text-stone-500">Responses</h4>
        <ul className="mt-1 space-y-1 text-sm">
          {Object.entries(op.responses).map(([status, r]) => {
            // The success body's schema (errors all share ErrorBody, described at the top).
            const answer = status.startsWith("2") ? Object.entries(r.content ?? {})[0] : undefined;
            return (
              <li key={status} className="flex gap-3">
                <span className={`w-10 shrink-0 font-mono ${status.startsWith("2") ? "text-green-800" : "text-stone-500"}`}>{status}</span>
                <div className="min-w-0 flex-1 text-stone-700">
                  <Prose text={r.description} />
                  {answer ? (
                    <details className="mt-1" data-testid={`answer-${method.toUpperCase()} ${path}`}>
                      <summary className="cursor-pointer text-xs text-stone-500">Body ({answer[0]})</summary>
                      <pre className="mt-2 max-h-96 overflow-auto rounded-md bg-stone-900 p-3 text-xs leading-relaxed text-stone-100">{JSON.stringify(readable(answer[1].schema), null, 2)}</pre>
                    </details>
                  ) : null}
                </div>
              </li>
            );
          })}
        </ul>
      </section>
    </article>
  );
}

export default function ApiDocsPage() {
  const doc = getOpenApiDocument();
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  return (
    <div className="mx-auto max-w-5xl space-y-8 px-4 py-8">
      <header className="space-y-2">
        <h1 className="text-2xl font-semibold">{doc.info.title}</h1>
        <p className="text-sm text-stone-600">
          <Prose text={doc.info.description} />
        </p>
        <p className="text-sm">
          Machine-readable:{" "}
          <a href="/api/v1/openapi.json" className="font-medium text-kiln-700 hover:underline">
            /api/v1/openapi.json
          </a>{" "}
          (OpenAPI {doc.openapi}). Create a token on your{" "}
          <Link href="/profile" className="font-medium text-kiln-700 hover:underline">
            profile
          </Link>
          .
        </p>
      </header>
      <nav aria-label="API sections" className="flex flex-wrap gap-2 text-sm">
        {doc.tags.map((t) => (
          <a key={t.name} href={`#${t.name}`} className="rounded-full bg-white px-3 py-1 ring-1 ring-stone-300 hover:bg-stone-100">
            {t.name}
          </a>
        ))}
      </nav>
      {doc.tags.map((t) => (
        <section key={t.name} id={t.name} aria-labelledby={`tag-${t.name}`} className="space-y-3">
          <div>
            <h2 id={`tag-${t.name}`} className="text-xl font-semibold">
              {t.name}
            </h2>
            <p className="text-sm text-stone-600">
              <Prose text={t.description} />
            </p>
          </div>
          {operations
            .filter(({ op }) => op.tags.includes(t.name))
            .map(({ path, method, op }) => (
              <Operation key={`${method} ${path}`} method={method} path={path} op={op} />
            ))}
        </section>
      ))}
    </div>
  );
}
