import Link from "next/link";
import type { ReactNode } from "react";

/** Inputs and selects of a filter bar share one height, so labels and controls line up. */
export const FILTER_CONTROL = "h-9 rounded-md border border-stone-300 bg-white px-3 text-sm";

/** A GET form: filters live in the query string, so a filtered view can be bookmarked and shared. */
export function FilterBar({ action, canClear, children }: { action: string; canClear: boolean; children: ReactNode }) {
  return (
    <form role="search" action={action} className="flex flex-wrap items-end gap-2">
      {children}
      <button className="h-9 rounded-md bg-white px-3 text-sm font-medium ring-1 ring-stone-300 hover:bg-stone-100">Filter</button>
      {canClear ? (
        <Link href={action} className="px-2 py-2 text-sm text-stone-600 hover:underline">
          Clear
        </Link>
      ) : null}
    </form>
  );
}

export function FilterField({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div>
      <label htmlFor={id} className="mb-0.5 block text-xs font-medium text-stone-600">
        {label}
      </label>
      {children}
    </div>
  );
}
