// "Did you mean host.interface.mac?" for a name or attribute a template reads that its context
// does not have. Runs only when a render has already failed, over a bounded walk of the context.
import { isDict, type Dict, type Value } from "./values";

/** How many dotted paths the walk collects at most, and how deep it goes. */
const MAX_PATHS = 2000;
const MAX_DEPTH = 4;
/** Longer names are cut before comparing: the distance is quadratic in their length. */
const MAX_NAME = 64;

/** Every dotted path in `root` down to MAX_DEPTH (dictionaries only: list items have no names). */
export function contextPaths(root: Dict, extraNames: Iterable<string> = []): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    if (seen.has(p) || out.length >= MAX_PATHS) return false;
    seen.add(p);
    out.push(p);
    return true;
  };
  for (const n of extraNames) add(n);
  const walk = (d: Dict, prefix: string, depth: number) => {
    for (const k in d) {
      if (out.length >= MAX_PATHS) return;
      const p = prefix ? `${prefix}.${k}` : k;
      add(p);
      const v: Value = d[k]!;
      if (depth + 1 < MAX_DEPTH && isDict(v)) walk(v, p, depth + 1);
    }
  };
  walk(root, "", 0);
  return out;
}

/** Optimal string alignment distance (Levenshtein with adjacent transpositions as one edit). */
export function editDistance(a: string, b: string): number {
  a = a.slice(0, MAX_NAME);
  b = b.slice(0, MAX_NAME);
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

const lastPart = (p: string) => p.slice(p.lastIndexOf(".") + 1);

/**
 * The closest paths to `missing` ("host.mac"), best first, at most `limit`. A path whose last
 * name is close ranks first (host.interface.mac for host.mac: the name was right, the place
 * wrong), then by the distance of the whole path (host.name for hots.name).
 */
export function closestPaths(missing: string, paths: string[], limit = 3): string[] {
  const leaf = lastPart(missing);
  const leafRoom = Math.max(1, Math.floor(leaf.length / 3));
  const wholeRoom = Math.max(1, Math.floor(missing.length / 4));
  const scored: { p: string; score: number }[] = [];
  for (const p of paths) {
    if (p === missing) continue;
    const leafD = editDistance(leaf, lastPart(p));
    const wholeD = editDistance(missing, p);
    if (leafD > leafRoom && wholeD > wholeRoom) continue;
    // The leaf counts most; the whole path breaks ties and admits a typo in a parent's name.
    scored.push({ p, score: leafD <= leafRoom ? leafD * 10 + wholeD : 100 + wholeD * 10 });
  }
  scored.sort((x, y) => x.score - y.score || x.p.length - y.p.length || (x.p < y.p ? -1 : 1));
  // Only names about as close as the best: "host.name" for host.nmae, not also "user.name".
  const best = scored[0]?.score ?? 0;
  return scored
    .filter((s) => s.score <= best + 2)
    .slice(0, limit)
    .map((s) => s.p);
}

/**
 * The edit that turns an undefined name into a suggestion, at the error's position (which
 * points at the missing name's last part): replace `length` characters there with `text`.
 * host.mac → host.interface.mac replaces "mac" with "interface.mac"; hots → host replaces
 * "hots". Null when the suggestion does not share the missing name's parent, or the name went
 * through an index (the text at the position is then not simply the last part).
 */
export function fixFor(missing: string, suggestion: string): { length: number; text: string } | null {
  if (missing.includes("[")) return null;
  const cut = missing.lastIndexOf(".");
  const parent = cut < 0 ? "" : missing.slice(0, cut + 1);
  const leaf = missing.slice(cut + 1);
  if (!suggestion.startsWith(parent) || suggestion.length === parent.length) return null;
  return { length: leaf.length, text: suggestion.slice(parent.length) };
}
