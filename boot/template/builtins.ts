// One file: every filter, test and method shares the cost helpers at its top (asString, read, fits);
// together they are the whole surface a template can call, reviewed as one.
// The filters, tests and methods templates may use: each is our own code over plain
// values, so no template can reach a JavaScript function through them.
//
// Cost rules (see docs/templates.md): every filter charges the step budget for the work it
// does (per item, and per CHARS_PER_STEP characters of text it reads or writes), and every
// string or list it returns has its size worked out and checked before it is built. None
// uses a regular expression over template text, and none takes a pattern from a template:
// JavaScript's regular expressions backtrack, and Node has no linear-time engine.
import { equal, hasKeys, isDict, isUndefined, newDict, plain, str, textCost, toJson, truthy, typeName, type Dict, type Meter, type Value } from "./values";

export interface Helpers {
  fail(message: string, at: number, kind?: "render" | "limit"): never;
  tick(at: number, n?: number): void;
  getAttr(obj: Value, key: Value, at: number, label: string): Value;
  /** A meter that charges this template's budget and fails at `at`. */
  meter(at: number): Meter;
  readonly limits: { maxOutputBytes: number; maxListItems: number };
}

type Filter = (h: Helpers, at: number, value: Value, args: Value[], kwargs: Dict) => Value;

const asString = (h: Helpers, at: number, v: Value, what: string): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || v === null) return plain(v);
  return h.fail(`${what} expects text, got a ${typeName(v)}`, at);
};

/** Charges reading `chars` characters. */
const read = (h: Helpers, at: number, chars: number) => h.tick(at, textCost(chars));

/** Refuses before building a string of `length` characters that would pass the value cap. */
const fits = (h: Helpers, at: number, length: number, what: string): void => {
  if (length > h.limits.maxOutputBytes) h.fail(`${what} would make ${length.toLocaleString("en")} characters (at most ${h.limits.maxOutputBytes.toLocaleString("en")})`, at, "limit");
};

/** Refuses before building a list of `n` items that would pass the list cap. */
const fitsList = (h: Helpers, at: number, n: number, what: string): void => {
  if (n > h.limits.maxListItems) h.fail(`${what} would make a list of ${n.toLocaleString("en")} items (at most ${h.limits.maxListItems.toLocaleString("en")})`, at, "limit");
};

const asList = (h: Helpers, at: number, v: Value, what: string): Value[] => {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") {
    fitsList(h, at, v.length, what);
    read(h, at, v.length);
    return Array.from(v);
  }
  if (isDict(v)) return keysOf(h, at, v);
  if (v === null || isUndefined(v)) return [];
  return h.fail(`${what} expects a list, got a ${typeName(v)}`, at);
};

/** The keys of a dictionary, charged one step each. */
export function keysOf(h: Helpers, at: number, d: Dict): string[] {
  const keys = Object.keys(d);
  h.tick(at, keys.length);
  return keys;
}

/** Ordering for sort/min/max: numbers by value, everything else by its text, code unit by code unit. */
const comparer = (h: Helpers, at: number) => {
  const m = h.meter(at);
  return (a: Value, b: Value): number => {
    h.tick(at, 1);
    if (typeof a === "number" && typeof b === "number") return a - b;
    const x = str(a, m);
    const y = str(b, m);
    read(h, at, Math.min(x.length, y.length));
    return x < y ? -1 : x > y ? 1 : 0;
  };
};

/** Maps text in 64 Ki-unit chunks, refusing as soon as the result passes the value cap (case mapping can grow text). */
function mapText(h: Helpers, at: number, s: string, fn: (chunk: string) => string, what: string): string {
  if (s.length <= 65536) {
    read(h, at, s.length);
    const out = fn(s);
    fits(h, at, out.length, what);
    return out;
  }
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; i < s.length; ) {
    let end = Math.min(s.length, i + 65536);
    // Never split a surrogate pair between chunks.
    if (end < s.length && s.charCodeAt(end - 1) >= 0xd800 && s.charCodeAt(end - 1) <= 0xdbff) end--;
    const chunk = s.slice(i, end);
    read(h, at, chunk.length);
    const out = fn(chunk);
    length += out.length;
    fits(h, at, length, what);
    parts.push(out);
    i = end;
  }
  return parts.join("");
}

/** Replaces each character found in `map` by its replacement, sizing the result first. */
function replaceChars(h: Helpers, at: number, s: string, map: Record<string, string>, what: string): string {
  read(h, at, s.length);
  let length = s.length;
  for (let i = 0; i < s.length; i++) {
    const r = map[s[i]!];
    if (r !== undefined) length += r.length - 1;
  }
  fits(h, at, length, what);
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const r = map[s[i]!];
    if (r !== undefined) {
      parts.push(s.slice(from, i), r);
      from = i + 1;
    }
  }
  parts.push(s.slice(from));
  return parts.join("");
}

/** Where `sep` occurs in `s`, at most `limit` times (then null): counted before anything is built. */
function occurrences(h: Helpers, at: number, s: string, sep: string, limit: number): number[] | null {
  read(h, at, s.length);
  const found: number[] = [];
  for (let i = s.indexOf(sep); i !== -1; i = s.indexOf(sep, i + sep.length)) {
    if (found.length >= limit) return null;
    found.push(i);
  }
  return found;
}

function replaceText(h: Helpers, at: number, s: string, from: string, to: string, count: number): string {
  if (!from) return s;
  // Python's count: replace at most that many (the first ones); -1 replaces all.
  read(h, at, s.length);
  const hits: number[] = [];
  for (let i = s.indexOf(from); i !== -1 && (count < 0 || hits.length < count); i = s.indexOf(from, i + from.length)) hits.push(i);
  fits(h, at, s.length + hits.length * (to.length - from.length), "replace");
  h.tick(at, hits.length);
  const parts: string[] = [];
  let last = 0;
  for (const i of hits) {
    parts.push(s.slice(last, i), to);
    last = i + from.length;
  }
  parts.push(s.slice(last));
  return parts.join("");
}

const isSpace = (c: number): boolean =>
  c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;

/** Python's str.split() with no separator: runs of whitespace, no empty parts; sized first. */
function splitWhitespace(h: Helpers, at: number, s: string, max: number): string[] {
  read(h, at, s.length);
  const parts: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (i >= s.length) break;
    if (max >= 0 && parts.length === max) {
      let end = s.length;
      while (end > i && isSpace(s.charCodeAt(end - 1))) end--;
      parts.push(s.slice(i, end));
      break;
    }
    let j = i;
    while (j < s.length && !isSpace(s.charCodeAt(j))) j++;
    fitsList(h, at, parts.length + 1, "split");
    parts.push(s.slice(i, j));
    i = j;
  }
  return parts;
}

/** Strips any of `chars` from the ends (Python's strip(chars)), by scanning, not by a pattern. */
function stripChars(h: Helpers, at: number, s: string, chars: string, left: boolean, right: boolean): string {
  read(h, at, s.length + chars.length);
  const set = new Set(chars);
  let a = 0;
  let b = s.length;
  if (left) while (a < b && set.has(s[a]!)) a++;
  if (right) while (b > a && set.has(s[b - 1]!)) b--;
  return s.slice(a, b);
}

const indent: Filter = (h, at, v, args, kw) => {
  const width = (kw.width ?? args[0] ?? 4) as Value;
  const first = truthy((kw.first ?? args[1] ?? false) as Value);
  const pad = typeof width === "string" ? width : " ".repeat(Math.max(0, Math.min(100, Number(width) || 0)));
  const s = asString(h, at, v, "indent");
  const lines = occurrences(h, at, s, "\n", h.limits.maxOutputBytes)!.length + 1;
  fits(h, at, s.length + lines * pad.length, "indent");
  h.tick(at, lines);
  return s
    .split("\n")
    .map((l, i) => ((i > 0 || first) && l ? pad + l : l))
    .join("\n");
};

/** Python's title(): a letter after a letter or digit goes lower case, any other letter upper (a scan). */
function titleCase(s: string): string {
  let out = "";
  let inWord = false;
  for (const ch of s) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    const isCased = lower !== upper;
    out += isCased ? (inWord ? lower : upper) : ch;
    inWord = isCased || (ch >= "0" && ch <= "9");
  }
  return out;
}

/** Null-prototype tables: a filter named "constructor" or "toString" finds nothing. */
function table<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

const HTML_ESCAPES: Record<string, string> = table({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" });

export const FILTERS: Record<string, Filter> = table<Filter>({
  default: (_h, _at, v, args, kw) => {
    const alt = (args[0] ?? kw.default_value ?? "") as Value;
    const boolean = truthy((args[1] ?? kw.boolean ?? false) as Value);
    return isUndefined(v) || (boolean && !truthy(v)) ? alt : v;
  },
  upper: (h, at, v) => mapText(h, at, asString(h, at, v, "upper"), (s) => s.toUpperCase(), "upper"),
  lower: (h, at, v) => mapText(h, at, asString(h, at, v, "lower"), (s) => s.toLowerCase(), "lower"),
  title: (h, at, v) => mapText(h, at, asString(h, at, v, "title"), titleCase, "title"),
  capitalize: (h, at, v) => {
    const s = asString(h, at, v, "capitalize");
    return mapText(h, at, s.slice(0, 1), (x) => x.toUpperCase(), "capitalize") + mapText(h, at, s.slice(1), (x) => x.toLowerCase(), "capitalize");
  },
  trim: (h, at, v) => {
    const s = asString(h, at, v, "trim");
    read(h, at, s.length);
    return s.trim();
  },
  replace: (h, at, v, args) => {
    const s = asString(h, at, v, "replace");
    const from = asString(h, at, args[0] ?? "", "replace");
    const to = asString(h, at, args[1] ?? "", "replace");
    const count = typeof args[2] === "number" && Number.isInteger(args[2]) ? args[2] : -1;
    return replaceText(h, at, s, from, to, count);
  },
  join: (h, at, v, args, kw) => {
    const items = asList(h, at, v, "join");
    const attr = kw.attribute;
    const sep = asString(h, at, args[0] ?? "", "join");
    const m = h.meter(at);
    h.tick(at, items.length);
    const parts: string[] = [];
    let length = 0;
    for (let i = 0; i < items.length; i++) {
      const x = items[i]!;
      const p = str(attr !== undefined ? h.getAttr(x, attr, at, "item") : x, m);
      length += p.length + (i ? sep.length : 0);
      fits(h, at, length, "join");
      parts.push(p);
    }
    h.tick(at, textCost(length));
    return parts.join(sep);
  },
  length: (h, at, v) => (typeof v === "string" || Array.isArray(v) ? v.length : isDict(v) ? keysOf(h, at, v).length : h.fail(`length of a ${typeName(v)}`, at)),
  first: (h, at, v) => {
    if (typeof v === "string") return v.length ? String.fromCodePoint(v.codePointAt(0)!) : null;
    const l = asList(h, at, v, "first");
    return l.length ? l[0]! : null;
  },
  last: (h, at, v) => {
    if (typeof v === "string") return v.length ? Array.from(v.slice(-2)).pop()! : null;
    const l = asList(h, at, v, "last");
    return l.length ? l[l.length - 1]! : null;
  },
  int: (h, at, v, args) => {
    const n = typeof v === "number" ? v : parseInt(str(v, h.meter(at)).slice(0, 400), 10);
    return Number.isFinite(n) ? Math.trunc(n) : ((args[0] ?? 0) as Value);
  },
  float: (h, at, v, args) => {
    const n = typeof v === "number" ? v : parseFloat(str(v, h.meter(at)).slice(0, 400));
    return Number.isFinite(n) ? n : ((args[0] ?? 0) as Value);
  },
  string: (h, at, v) => str(v, h.meter(at)),
  list: (h, at, v) => {
    const items = asList(h, at, v, "list");
    h.tick(at, items.length);
    return [...items];
  },
  sort: (h, at, v, _args, kw) => {
    const items = asList(h, at, v, "sort");
    h.tick(at, items.length);
    const attr = kw.attribute;
    const cmp = comparer(h, at);
    const keyed = items.map((x) => ({ x, k: attr !== undefined ? h.getAttr(x, attr, at, "item") : x }));
    keyed.sort((a, b) => cmp(a.k, b.k));
    const sorted = keyed.map((e) => e.x);
    return truthy((kw.reverse ?? false) as Value) ? sorted.reverse() : sorted;
  },
  unique: (h, at, v) => {
    const seen = new Set<string>();
    const m = h.meter(at);
    const items = asList(h, at, v, "unique");
    h.tick(at, items.length);
    return items.filter((x) => {
      const k = typeName(x) + ":" + str(x, m);
      h.tick(at, textCost(k.length));
      return seen.has(k) ? false : (seen.add(k), true);
    });
  },
  reverse: (h, at, v) => {
    if (typeof v === "string") {
      read(h, at, v.length);
      return Array.from(v).reverse().join("");
    }
    const items = asList(h, at, v, "reverse");
    h.tick(at, items.length);
    return [...items].reverse();
  },
  indent,
  tojson: (h, at, v, args, kw) => {
    const ind = kw.indent ?? args[0];
    return toJson(v, typeof ind === "number" ? ind : 0, h.meter(at));
  },
  safe: (_h, _at, v) => v,
  escape: (h, at, v) => replaceChars(h, at, asString(h, at, v, "escape"), HTML_ESCAPES, "escape"),
  urlencode: (h, at, v) => {
    const s = asString(h, at, v, "urlencode");
    // Each UTF-8 byte becomes at most three characters (%XX).
    fits(h, at, 3 * Buffer.byteLength(s, "utf8"), "urlencode");
    read(h, at, s.length * 3);
    try {
      return encodeURIComponent(s);
    } catch {
      return h.fail("urlencode: the text holds half of a surrogate pair", at);
    }
  },
  b64encode: (h, at, v) => {
    const s = asString(h, at, v, "b64encode");
    fits(h, at, 4 * Math.ceil(Buffer.byteLength(s, "utf8") / 3), "b64encode");
    read(h, at, s.length * 2);
    return Buffer.from(s, "utf8").toString("base64");
  },
  // Single-quoted for POSIX shells: the one safe way to put a value into a script line.
  shell_quote: (h, at, v) => `'${replaceChars(h, at, asString(h, at, v, "shell_quote"), table({ "'": `'"'"'` }), "shell_quote")}'`,
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
  min: (h, at, v) => {
    const cmp = comparer(h, at);
    return asList(h, at, v, "min").reduce<Value>((m, x) => (m === null || cmp(x, m) < 0 ? x : m), null);
  },
  max: (h, at, v) => {
    const cmp = comparer(h, at);
    return asList(h, at, v, "max").reduce<Value>((m, x) => (m === null || cmp(x, m) > 0 ? x : m), null);
  },
  sum: (h, at, v) => {
    const items = asList(h, at, v, "sum");
    h.tick(at, items.length);
    return items.reduce<number>((s, x) => s + (typeof x === "number" ? x : 0), 0);
  },
  round: (_h, _at, v, args) => {
    const p = Math.max(0, Math.min(10, Math.trunc(Number(args[0] ?? 0)) || 0));
    return typeof v === "number" ? Math.round(v * 10 ** p) / 10 ** p : v;
  },
  abs: (_h, _at, v) => (typeof v === "number" ? Math.abs(v) : v),
  items: (h, at, v) => (isDict(v) ? keysOf(h, at, v).map((k) => [k, v[k]!]) : h.fail(`items of a ${typeName(v)}`, at)),
  dictsort: (h, at, v) => {
    if (!isDict(v)) return h.fail(`dictsort of a ${typeName(v)}`, at);
    const cmp = comparer(h, at);
    return keysOf(h, at, v)
      .sort(cmp)
      .map((k) => [k, v[k]!]);
  },
});
FILTERS.d = FILTERS.default!;
FILTERS.count = FILTERS.length!;
FILTERS.e = FILTERS.escape!;

function selectReject(h: Helpers, at: number, v: Value, args: Value[], keep: boolean): Value {
  const items = asList(h, at, v, keep ? "select" : "reject");
  h.tick(at, items.length);
  const name = args[0];
  const test = typeof name === "string" ? TESTS[name] : undefined;
  if (name !== undefined && !test) return h.fail(`Unknown test “${str(name, h.meter(at))}”`, at);
  return items.filter((x) => (test ? test(h, at, x, args.slice(1)) : truthy(x)) === keep);
}

/** Python's `in`: substring, list membership (by ==) or dictionary key; charged for what it reads. */
export function contains(h: Helpers, at: number, container: Value, item: Value): boolean {
  if (typeof container === "string") {
    if (typeof item !== "string") return false;
    read(h, at, container.length + item.length);
    return container.includes(item);
  }
  if (Array.isArray(container)) {
    const m = h.meter(at);
    return container.some((x) => equal(x, item, m));
  }
  if (isDict(container)) return (typeof item === "string" || typeof item === "number") && Object.prototype.hasOwnProperty.call(container, String(item));
  return h.fail(`Cannot look inside a ${typeName(container)} with “in”`, at);
}

type Test = (h: Helpers, at: number, v: Value, args: Value[]) => boolean;

export const TESTS: Record<string, Test> = table<Test>({
  defined: (_h, _at, v) => !isUndefined(v),
  undefined: (_h, _at, v) => isUndefined(v),
  none: (_h, _at, v) => v === null,
  string: (_h, _at, v) => typeof v === "string",
  number: (_h, _at, v) => typeof v === "number",
  integer: (_h, _at, v) => typeof v === "number" && Number.isInteger(v),
  boolean: (_h, _at, v) => typeof v === "boolean",
  mapping: (_h, _at, v) => isDict(v),
  sequence: (_h, _at, v) => Array.isArray(v) || typeof v === "string",
  iterable: (_h, _at, v) => Array.isArray(v) || typeof v === "string" || isDict(v),
  even: (_h, _at, v) => typeof v === "number" && v % 2 === 0,
  odd: (_h, _at, v) => typeof v === "number" && Math.abs(v % 2) === 1,
  divisibleby: (_h, _at, v, [n]) => typeof v === "number" && typeof n === "number" && n !== 0 && v % n === 0,
  eq: (h, at, v, [o]) => equal(v, o ?? null, h.meter(at)),
  equalto: (h, at, v, [o]) => equal(v, o ?? null, h.meter(at)),
  ne: (h, at, v, [o]) => !equal(v, o ?? null, h.meter(at)),
  gt: (_h, _at, v, [o]) => typeof v === "number" && typeof o === "number" && v > o,
  lt: (_h, _at, v, [o]) => typeof v === "number" && typeof o === "number" && v < o,
  in: (h, at, v, [o]) => (Array.isArray(o) || typeof o === "string" ? contains(h, at, o, v) : false),
  lower: (h, at, v) => typeof v === "string" && mapText(h, at, v, (s) => s.toLowerCase(), "lower") === v,
  upper: (h, at, v) => typeof v === "string" && mapText(h, at, v, (s) => s.toUpperCase(), "upper") === v,
  truthy: (_h, _at, v) => truthy(v),
  falsy: (_h, _at, v) => !truthy(v),
});

type Method = (h: Helpers, at: number, obj: Value, args: Value[]) => Value;

export const METHODS: Record<"dict" | "string" | "list", Record<string, Method>> = {
  dict: table<Method>({
    items: (h, at, o) => keysOf(h, at, o as Dict).map((k) => [k, (o as Dict)[k]!]),
    keys: (h, at, o) => keysOf(h, at, o as Dict),
    values: (h, at, o) => keysOf(h, at, o as Dict).map((k) => (o as Dict)[k]!),
    get: (h, at, o, [k, d]) => {
      const v = h.getAttr(o, k ?? null, at, "dict");
      return isUndefined(v) ? (d ?? null) : v;
    },
  }),
  string: table<Method>({
    lower: (h, at, o) => FILTERS.lower!(h, at, o, [], newDict()),
    upper: (h, at, o) => FILTERS.upper!(h, at, o, [], newDict()),
    strip: (h, at, o, [c]) => (typeof c === "string" ? stripChars(h, at, o as string, c, true, true) : FILTERS.trim!(h, at, o, [], newDict())),
    lstrip: (h, at, o, [c]) => (typeof c === "string" ? stripChars(h, at, o as string, c, true, false) : (read(h, at, (o as string).length), (o as string).trimStart())),
    rstrip: (h, at, o, [c]) => (typeof c === "string" ? stripChars(h, at, o as string, c, false, true) : (read(h, at, (o as string).length), (o as string).trimEnd())),
    split: (h, at, o, [sep, max]) => {
      const s = o as string;
      const limit = typeof max === "number" && Number.isInteger(max) && max >= 0 ? max : -1;
      if (typeof sep !== "string" || !sep) return splitWhitespace(h, at, s, limit);
      const found = occurrences(h, at, s, sep, h.limits.maxListItems);
      if (!found) return h.fail(`split would make a list of more than ${h.limits.maxListItems.toLocaleString("en")} items`, at, "limit");
      const cuts = limit >= 0 ? found.slice(0, limit) : found;
      h.tick(at, cuts.length + 1);
      const parts: string[] = [];
      let last = 0;
      for (const i of cuts) {
        parts.push(s.slice(last, i));
        last = i + sep.length;
      }
      parts.push(s.slice(last));
      return parts;
    },
    startswith: (h, at, o, [p]) => typeof p === "string" && (read(h, at, p.length), (o as string).startsWith(p)),
    endswith: (h, at, o, [p]) => typeof p === "string" && (read(h, at, p.length), (o as string).endsWith(p)),
    replace: (h, at, o, args) => FILTERS.replace!(h, at, o, args, newDict()),
    title: (h, at, o) => FILTERS.title!(h, at, o, [], newDict()),
    capitalize: (h, at, o) => FILTERS.capitalize!(h, at, o, [], newDict()),
    join: (h, at, o, [items]) => FILTERS.join!(h, at, items ?? [], [o], newDict()),
  }),
  list: table<Method>({
    index: (h, at, o, [x]) => {
      const m = h.meter(at);
      return (o as Value[]).findIndex((y) => equal(y, x ?? null, m));
    },
    count: (h, at, o, [x]) => {
      const m = h.meter(at);
      return (o as Value[]).filter((y) => equal(y, x ?? null, m)).length;
    },
  }),
};

export { hasKeys };
