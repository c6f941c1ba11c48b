// The filters, tests and methods templates may use: each is our own code over plain
// values, so no template can reach a JavaScript function through them.
import { isDict, isUndefined, newDict, str, truthy, typeName, type Dict, type Value } from "./values";

export interface Helpers {
  fail(message: string, at: number, kind?: "render" | "limit"): never;
  tick(at: number, n?: number): void;
  getAttr(obj: Value, key: Value, at: number, label: string): Value;
  readonly limits: { maxOutputBytes: number };
}

type Filter = (h: Helpers, at: number, value: Value, args: Value[], kwargs: Dict) => Value;

const asString = (h: Helpers, at: number, v: Value, what: string): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || v === null) return str(v);
  return h.fail(`${what} expects text, got a ${typeName(v)}`, at);
};

const asList = (h: Helpers, at: number, v: Value, what: string): Value[] => {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return [...v];
  if (isDict(v)) return Object.keys(v);
  if (v === null || isUndefined(v)) return [];
  return h.fail(`${what} expects a list, got a ${typeName(v)}`, at);
};

const compare = (a: Value, b: Value): number => {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return str(a).localeCompare(str(b));
};

/** JSON with sorted-insertion order; undefined becomes null. */
function toJson(v: Value): unknown {
  if (isUndefined(v)) return null;
  if (Array.isArray(v)) return v.map(toJson);
  if (isDict(v)) return Object.fromEntries(Object.keys(v).map((k) => [k, toJson(v[k]!)]));
  return v;
}

const indent: Filter = (h, at, v, args, kw) => {
  const width = (kw.width ?? args[0] ?? 4) as Value;
  const first = truthy((kw.first ?? args[1] ?? false) as Value);
  const pad = typeof width === "string" ? width : " ".repeat(Math.min(100, Number(width) || 0));
  const lines = asString(h, at, v, "indent").split("\n");
  return lines.map((l, i) => ((i > 0 || first) && l ? pad + l : l)).join("\n");
};

/** Null-prototype tables: a filter named "constructor" or "toString" finds nothing. */
function table<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

export const FILTERS: Record<string, Filter> = table<Filter>({
  default: (_h, _at, v, args, kw) => {
    const alt = (args[0] ?? kw.default_value ?? "") as Value;
    const boolean = truthy((args[1] ?? kw.boolean ?? false) as Value);
    return isUndefined(v) || (boolean && !truthy(v)) ? alt : v;
  },
  upper: (h, at, v) => asString(h, at, v, "upper").toUpperCase(),
  lower: (h, at, v) => asString(h, at, v, "lower").toLowerCase(),
  title: (h, at, v) => asString(h, at, v, "title").replace(/\w\S*/g, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase()),
  capitalize: (h, at, v) => {
    const s = asString(h, at, v, "capitalize");
    return s.slice(0, 1).toUpperCase() + s.slice(1).toLowerCase();
  },
  trim: (h, at, v) => asString(h, at, v, "trim").trim(),
  replace: (h, at, v, args) => {
    const s = asString(h, at, v, "replace");
    const from = asString(h, at, args[0] ?? "", "replace");
    const to = asString(h, at, args[1] ?? "", "replace");
    if (!from) return s;
    const count = s.split(from).length - 1;
    if (s.length + count * (to.length - from.length) > h.limits.maxOutputBytes) h.fail("replace would produce too much text", at, "limit");
    return s.split(from).join(to);
  },
  join: (h, at, v, args, kw) => {
    const items = asList(h, at, v, "join");
    const attr = kw.attribute;
    const sep = asString(h, at, args[0] ?? "", "join");
    h.tick(at, items.length);
    const parts = items.map((x) => str(attr !== undefined ? h.getAttr(x, attr, at, "item") : x));
    if (parts.reduce((n, p) => n + p.length + sep.length, 0) > h.limits.maxOutputBytes) h.fail("join would produce too much text", at, "limit");
    return parts.join(sep);
  },
  length: (h, at, v) => (typeof v === "string" || Array.isArray(v) ? v.length : isDict(v) ? Object.keys(v).length : h.fail(`length of a ${typeName(v)}`, at)),
  first: (h, at, v) => {
    const l = asList(h, at, v, "first");
    return l.length ? l[0]! : null;
  },
  last: (h, at, v) => {
    const l = asList(h, at, v, "last");
    return l.length ? l[l.length - 1]! : null;
  },
  int: (_h, _at, v, args) => {
    const n = typeof v === "number" ? v : parseInt(str(v), 10);
    return Number.isFinite(n) ? Math.trunc(n) : ((args[0] ?? 0) as Value);
  },
  float: (_h, _at, v, args) => {
    const n = typeof v === "number" ? v : parseFloat(str(v));
    return Number.isFinite(n) ? n : ((args[0] ?? 0) as Value);
  },
  string: (_h, _at, v) => str(v),
  list: (h, at, v) => [...asList(h, at, v, "list")],
  sort: (h, at, v, _args, kw) => {
    const items = [...asList(h, at, v, "sort")];
    h.tick(at, items.length * 8);
    const attr = kw.attribute;
    const key = (x: Value) => (attr !== undefined ? h.getAttr(x, attr, at, "item") : x);
    items.sort((a, b) => compare(key(a), key(b)));
    return truthy((kw.reverse ?? false) as Value) ? items.reverse() : items;
  },
  unique: (h, at, v) => {
    const seen = new Set<string>();
    return asList(h, at, v, "unique").filter((x) => {
      const k = typeName(x) + ":" + str(x);
      return seen.has(k) ? false : (seen.add(k), true);
    });
  },
  reverse: (h, at, v) => (typeof v === "string" ? [...v].reverse().join("") : [...asList(h, at, v, "reverse")].reverse()),
  indent,
  tojson: (_h, _at, v, args, kw) => JSON.stringify(toJson(v), null, (kw.indent ?? args[0]) !== undefined ? Number(kw.indent ?? args[0]) : undefined) ?? "null",
  safe: (_h, _at, v) => v,
  escape: (h, at, v) => asString(h, at, v, "escape").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!),
  urlencode: (h, at, v) => encodeURIComponent(asString(h, at, v, "urlencode")),
  b64encode: (h, at, v) => Buffer.from(asString(h, at, v, "b64encode"), "utf8").toString("base64"),
  // Single-quoted for POSIX shells: the one safe way to put a value into a script line.
  shell_quote: (h, at, v) => `'${asString(h, at, v, "shell_quote").replace(/'/g, `'"'"'`)}'`,
  map: (h, at, v, args, kw) => {
    const items = asList(h, at, v, "map");
    h.tick(at, items.length);
    if (kw.attribute !== undefined) return items.map((x) => h.getAttr(x, kw.attribute!, at, "item"));
    const name = args[0];
    const f = typeof name === "string" ? FILTERS[name] : undefined;
    if (!f || name === "map") return h.fail("map needs attribute='…' or the name of a filter", at);
    return items.map((x) => f(h, at, x, args.slice(1), newDict()));
  },
  select: (h, at, v, args) => selectReject(h, at, v, args, true),
  reject: (h, at, v, args) => selectReject(h, at, v, args, false),
  min: (h, at, v) => asList(h, at, v, "min").reduce<Value>((m, x) => (m === null || compare(x, m) < 0 ? x : m), null),
  max: (h, at, v) => asList(h, at, v, "max").reduce<Value>((m, x) => (m === null || compare(x, m) > 0 ? x : m), null),
  sum: (h, at, v) => asList(h, at, v, "sum").reduce<number>((s, x) => s + (typeof x === "number" ? x : 0), 0),
  round: (_h, _at, v, args) => {
    const p = Math.min(10, Number(args[0] ?? 0));
    return typeof v === "number" ? Math.round(v * 10 ** p) / 10 ** p : v;
  },
  abs: (_h, _at, v) => (typeof v === "number" ? Math.abs(v) : v),
  items: (h, at, v) => (isDict(v) ? Object.keys(v).map((k) => [k, v[k]!]) : h.fail(`items of a ${typeName(v)}`, at)),
  dictsort: (h, at, v) => (isDict(v) ? Object.keys(v).sort().map((k) => [k, v[k]!]) : h.fail(`dictsort of a ${typeName(v)}`, at)),
});
FILTERS.d = FILTERS.default!;
FILTERS.count = FILTERS.length!;
FILTERS.e = FILTERS.escape!;

function selectReject(h: Helpers, at: number, v: Value, args: Value[], keep: boolean): Value {
  const items = asList(h, at, v, keep ? "select" : "reject");
  h.tick(at, items.length);
  const name = args[0];
  const test = typeof name === "string" ? TESTS[name] : undefined;
  if (name !== undefined && !test) return h.fail(`Unknown test “${str(name)}”`, at);
  return items.filter((x) => (test ? test(x, args.slice(1)) : truthy(x)) === keep);
}

export const TESTS: Record<string, (v: Value, args: Value[]) => boolean> = table<(v: Value, args: Value[]) => boolean>({
  defined: (v) => !isUndefined(v),
  undefined: (v) => isUndefined(v),
  none: (v) => v === null,
  string: (v) => typeof v === "string",
  number: (v) => typeof v === "number",
  integer: (v) => typeof v === "number" && Number.isInteger(v),
  boolean: (v) => typeof v === "boolean",
  mapping: (v) => isDict(v),
  sequence: (v) => Array.isArray(v) || typeof v === "string",
  iterable: (v) => Array.isArray(v) || typeof v === "string" || isDict(v),
  even: (v) => typeof v === "number" && v % 2 === 0,
  odd: (v) => typeof v === "number" && Math.abs(v % 2) === 1,
  divisibleby: (v, [n]) => typeof v === "number" && typeof n === "number" && n !== 0 && v % n === 0,
  eq: (v, [o]) => v === o,
  equalto: (v, [o]) => v === o,
  ne: (v, [o]) => v !== o,
  gt: (v, [o]) => typeof v === "number" && typeof o === "number" && v > o,
  lt: (v, [o]) => typeof v === "number" && typeof o === "number" && v < o,
  in: (v, [o]) => (Array.isArray(o) ? o.includes(v) : typeof o === "string" && typeof v === "string" ? o.includes(v) : false),
  lower: (v) => typeof v === "string" && v === v.toLowerCase(),
  upper: (v) => typeof v === "string" && v === v.toUpperCase(),
  truthy: (v) => truthy(v),
  falsy: (v) => !truthy(v),
});

type Method = (h: Helpers, at: number, obj: Value, args: Value[]) => Value;

export const METHODS: Record<"dict" | "string" | "list", Record<string, Method>> = {
  dict: table<Method>({
    items: (_h, _at, o) => Object.keys(o as Dict).map((k) => [k, (o as Dict)[k]!]),
    keys: (_h, _at, o) => Object.keys(o as Dict),
    values: (_h, _at, o) => Object.keys(o as Dict).map((k) => (o as Dict)[k]!),
    get: (h, at, o, [k, d]) => {
      const v = h.getAttr(o, k ?? null, at, "dict");
      return isUndefined(v) ? (d ?? null) : v;
    },
  }),
  string: table<Method>({
    lower: (_h, _at, o) => (o as string).toLowerCase(),
    upper: (_h, _at, o) => (o as string).toUpperCase(),
    strip: (_h, _at, o, [c]) => (typeof c === "string" ? (o as string).replace(new RegExp(`^[${escapeClass(c)}]+|[${escapeClass(c)}]+$`, "g"), "") : (o as string).trim()),
    lstrip: (_h, _at, o) => (o as string).trimStart(),
    rstrip: (_h, _at, o) => (o as string).trimEnd(),
    split: (h, at, o, [sep, max]) => {
      const s = o as string;
      const parts = typeof sep === "string" && sep ? s.split(sep) : s.trim().split(/\s+/).filter(Boolean);
      h.tick(at, parts.length);
      if (typeof max === "number" && max >= 0 && parts.length > max + 1) return [...parts.slice(0, max), parts.slice(max).join(typeof sep === "string" ? sep : " ")];
      return parts;
    },
    startswith: (_h, _at, o, [p]) => typeof p === "string" && (o as string).startsWith(p),
    endswith: (_h, _at, o, [p]) => typeof p === "string" && (o as string).endsWith(p),
    replace: (h, at, o, args) => FILTERS.replace!(h, at, o, args, newDict()),
    title: (h, at, o) => FILTERS.title!(h, at, o, [], newDict()),
    capitalize: (h, at, o) => FILTERS.capitalize!(h, at, o, [], newDict()),
    join: (h, at, o, [items]) => FILTERS.join!(h, at, items ?? [], [o], newDict()),
  }),
  list: table<Method>({
    index: (_h, _at, o, [x]) => (o as Value[]).findIndex((y) => y === x),
    count: (_h, _at, o, [x]) => (o as Value[]).filter((y) => y === x).length,
  }),
};

function escapeClass(s: string): string {
  return s.replace(/[\\\]^-]/g, "\\$&");
}
