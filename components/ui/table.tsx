import type { ReactNode } from "react";

/** A column heading: its label (for a screen reader only when `srOnly`), right-aligned for numbers. */
export type Column = { label: string; align?: "right"; srOnly?: boolean };

/** A bordered, horizontally scrolling table with a quiet header row; the rows are the children. */
export function Table({ columns, children }: { columns: Column[]; children: ReactNode }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-stone-200 bg-white shadow-sm">
      <table className="w-full text-left text-sm">
        <thead className="border-b border-stone-200 bg-stone-50 text-xs uppercase tracking-wide text-stone-500">
          <tr>
            {columns.map((c) => (
              <th key={c.label} scope="col" className={`px-4 py-2${c.srOnly ? "" : " font-medium"}${c.align === "right" ? " text-right" : ""}`}>
                {c.srOnly ? <span className="sr-only">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-stone-100">{children}</tbody>
      </table>
    </div>
  );
}
