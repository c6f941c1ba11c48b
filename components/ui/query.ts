// Query-string helpers for server-rendered lists: filters, sorting and pages live in the URL.

export type SearchParams = Record<string, string | string[] | undefined>;

/** Keeps the first value of each parameter and drops empty ones, so `?state=` means "any". */
export function cleanParams(params: SearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined && value.trim() !== "") out[k] = value.trim();
  }
  return out;
}

/** `base` with `params` changed by `changes` (undefined removes a key); resets the page unless it is changed. */
export function hrefWith(base: string, params: Record<string, string>, changes: Record<string, string | undefined>): string {
  const next: Record<string, string> = { ...params };
  if (!("page" in changes)) delete next.page;
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === "") delete next[k];
    else next[k] = v;
  }
  const qs = new URLSearchParams(next).toString();
  return qs ? `${base}?${qs}` : base;
}
