// One labelled line of a record's details (<dl>): the label in a fixed column, the value
// wrapping inside its own (long ids, sha256s and URLs break rather than widen the page).
import type { ReactNode } from "react";

export function DetailRow({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[10rem_1fr] gap-2 py-1.5 text-sm">
      <dt className="text-stone-500">{label}</dt>
      <dd className="min-w-0 break-words text-stone-900">{children}</dd>
    </div>
  );
}
