import Link from "next/link";
import { hrefWith } from "./query";

/** "41–60 of 10,000" with previous/next and a few page numbers around the current one. */
export function Pagination({ base, params, page, perPage, total }: { base: string; params: Record<string, string>; page: number; perPage: number; total: number }) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  const shown = [...new Set([1, page - 2, page - 1, page, page + 1, page + 2, pages])].filter((p) => p >= 1 && p <= pages).sort((a, b) => a - b);
  const href = (p: number) => hrefWith(base, params, { page: p === 1 ? undefined : String(p) });
  const linkClass = "rounded-md px-2.5 py-1 ring-1 ring-stone-300 bg-white hover:bg-stone-100";
  return (
    <nav aria-label="Pages" className="flex flex-wrap items-center justify-between gap-3 text-sm">
      <p className="text-stone-600">
        {total === 0 ? "Nothing to show" : `${first.toLocaleString("en")}–${last.toLocaleString("en")} of ${total.toLocaleString("en")}`}
      </p>
      {pages > 1 ? (
        <ul className="flex items-center gap-1">
          <li>
            {page > 1 ? (
              <Link href={href(page - 1)} className={linkClass} rel="prev">
                ← Previous
              </Link>
            ) : null}
          </li>
          {shown.map((p, i) => (
            <li key={p} className="flex items-center gap-1">
              {i > 0 && p - shown[i - 1]! > 1 ? <span className="px-1 text-stone-400">…</span> : null}
              {p === page ? (
                <span aria-current="page" className="rounded-md bg-stone-800 px-2.5 py-1 text-white">
                  {p}
                </span>
              ) : (
                <Link href={href(p)} className={linkClass} aria-label={`Page ${p}`}>
                  {p}
                </Link>
              )}
            </li>
          ))}
          <li>
            {page < pages ? (
              <Link href={href(page + 1)} className={linkClass} rel="next">
                Next →
              </Link>
            ) : null}
          </li>
        </ul>
      ) : null}
    </nav>
  );
}
