// Where to send someone after signing in (`?next=`), or anywhere else a redirect target
// comes from the address bar: only somewhere on Kiln itself, else the home page.

/** Longer than any path Kiln has; past it a `next` is junk. */
const MAX_NEXT_LENGTH = 2048;

/**
 * The target as a path on Kiln (`/hosts/1?tab=log`), or "/" when it is anything else. Parsed
 * as a URL against Kiln's base and kept only when the origin is still Kiln's. Refused before
 * parsing: control characters (URL parsers silently drop tabs and newlines, so `/\t/evil`
 * would become `//evil`), backslashes (browsers read `/\evil` as `//evil`), and anything not
 * starting with a single `/` (`//evil`, `javascript:`, `https://…`). Checked again after
 * parsing, since dot segments can collapse into a `//` (`/.//evil` → `//evil`). Never throws.
 */
export function safeRedirectPath(next: unknown, base: string): string {
  const n = Array.isArray(next) ? next[0] : next;
  if (typeof n !== "string" || n.length === 0 || n.length > MAX_NEXT_LENGTH) return "/";
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(n)) return "/";
  if (!n.startsWith("/") || n.startsWith("//")) return "/";
  let baseUrl: URL;
  let url: URL;
  try {
    baseUrl = new URL(base);
    url = new URL(n, baseUrl);
  } catch {
    return "/";
  }
  if (url.origin !== baseUrl.origin) return "/";
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith("/") && !path.startsWith("//") && !path.includes("\\") ? path : "/";
}
