"use client";
// What a template can use for the preview host — host.*, the host's and the preview's vars,
// user.*, image, deployment.*, kiln.* — with the values it would get; a click inserts
// `{{ name }}` at the editor's cursor. The list comes with every preview (lib/templates).
import { useMemo, useState } from "react";
import type { ContextVariable } from "@/boot/context";

export function VariablesPanel({ variables, onInsert, canInsert, hostName }: { variables: ContextVariable[] | null; onInsert: (name: string) => void; canInsert: boolean; hostName: string | null }) {
  const [filter, setFilter] = useState("");
  const shown = useMemo(() => {
    const q = filter.trim().toLowerCase();
    return (variables ?? []).filter((v) => !q || v.name.toLowerCase().includes(q) || v.value.toLowerCase().includes(q));
  }, [variables, filter]);

  return (
    <section aria-label="Variables" className="rounded-md border border-stone-200 bg-white" data-testid="variables-panel">
      <div className="flex flex-wrap items-center gap-2 border-b border-stone-100 px-3 py-2">
        <h2 className="text-sm font-medium text-stone-800">Variables{hostName ? ` for ${hostName}` : ""}</h2>
        <input
          type="search"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          placeholder="Filter"
          aria-label="Filter variables"
          className="ml-auto w-40 rounded-md border border-stone-300 px-2 py-1 text-xs"
        />
      </div>
      {variables === null ? (
        <p className="px-3 py-2 text-xs text-stone-500">{hostName ? "Loading…" : "Choose a host you hold to see what a template can use."}</p>
      ) : (
        <ul className="max-h-56 divide-y divide-stone-50 overflow-auto text-xs">
          {shown.map((v) => (
            <li key={v.name}>
              <button
                type="button"
                disabled={!canInsert}
                onClick={() => onInsert(v.name)}
                title={canInsert ? `Insert {{ ${v.name} }} at the cursor` : v.name}
                aria-label={`Insert {{ ${v.name} }}`}
                className="flex w-full items-baseline gap-3 px-3 py-1 text-left hover:bg-kiln-50 disabled:cursor-default disabled:hover:bg-transparent"
              >
                <span className="shrink-0 font-mono text-kiln-700">{v.name}</span>
                <span className={`min-w-0 truncate font-mono ${v.type === "none" ? "text-stone-400" : "text-stone-600"}`}>{v.type === "text" ? JSON.stringify(v.value) : v.value}</span>
              </button>
            </li>
          ))}
          {shown.length === 0 ? <li className="px-3 py-2 text-stone-500">No variable matches “{filter}”.</li> : null}
        </ul>
      )}
      <p className="border-t border-stone-100 px-3 py-1.5 text-xs text-stone-500">
        Using a name that is not here is an error; test it with <span className="font-mono">is defined</span> or give it a <span className="font-mono">default(…)</span>.
      </p>
    </section>
  );
}
