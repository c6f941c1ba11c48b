import type { ReactNode } from "react";

/**
 * A column heading: its label (for a screen reader only when `srOnly`), right-aligned for numbers.
 * `content` is shown instead of the label where the heading is a control (a sort link, a
 * select-all checkbox); `sort` is then its aria-sort.
 */
export type Column = {
  label: string;
  align?: "right";
  srOnly?: boolean;
  nowrap?: boolean;
  className?: string;
  content?: ReactNode;
  sort?: "ascending" | "descending";
};

// Cells line up with their heading: a table's td use the same horizontal padding.
// `flush`: no padding at the left edge (a table inside running text, as in the API docs).
const PADDING = { flush: "pr-4", tight: "px-3", normal: "px-4", wide: "px-6" } as const;

/**
 * A horizontally scrolling table with a quiet header row; the rows are the children. `card`
 * (the default) is bordered on its own; `bare` sits inside a card that already has one.
 * `size="xs"` and `compact` make a dense table (a preview of many rows); `stickyHeader` keeps the
 * headings in view when `className` limits the wrapper's height.
 */
export function Table({
  columns,
  children,
  frame = "card",
  padding = "normal",
  className,
  testId,
  size = "sm",
  compact = false,
  stickyHeader = false,
}: {
  columns: Column[];
  children: ReactNode;
  frame?: "card" | "bare";
  padding?: keyof typeof PADDING;
  size?: "sm" | "xs";
  compact?: boolean;
  stickyHeader?: boolean;
  /** Added to the scrolling wrapper (a height limit, a negative margin to reach the card's edges). */
  className?: string;
  testId?: string;
}) {
  const wrapper = frame === "card" ? "overflow-x-auto rounded-lg border border-stone-200 bg-white shadow-sm" : "overflow-x-auto";
  return (
    <div className={className ? `${wrapper} ${className}` : wrapper} data-testid={testId}>
      <table className={`w-full text-left ${size === "xs" ? "text-xs" : "text-sm"}`}>
        <thead className={`border-b border-stone-200 bg-stone-50 text-xs uppercase tracking-wide text-stone-500${stickyHeader ? " sticky top-0" : ""}`}>
          <tr>
            {columns.map((c) => (
              <th
                key={c.label}
                scope="col"
                aria-sort={c.sort}
                className={`${PADDING[padding]} ${compact ? "py-1" : "py-2"}${c.srOnly ? "" : " font-medium"}${c.align === "right" ? " text-right" : ""}${c.nowrap ? " whitespace-nowrap" : ""}${c.className ? ` ${c.className}` : ""}`}
              >
                {c.content ?? (c.srOnly ? <span className="sr-only">{c.label}</span> : c.label)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-stone-100">{children}</tbody>
      </table>
    </div>
  );
}
