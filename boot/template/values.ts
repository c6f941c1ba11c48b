// The only values a template ever touches: null, booleans, finite numbers, strings,
// arrays and null-prototype dictionaries, copied out of the caller's context. No
// functions, no prototypes, no host objects: nothing to climb out through.
//
// Every operation here whose cost grows with its input (printing, comparing a list or a
// dictionary) takes a Meter: it charges the template's step budget as it goes, refuses
// nesting deeper than MAX_VALUE_DEPTH and text longer than the value cap, so a template
// cannot spend unbounded time or memory through one innocent-looking `{{ x }}` or `==`.

export type Dict = { [key: string]: Value };
export type Value = null | boolean | number | string | Value[] | Dict | Undefined;

/**
 * A name or attribute the context does not have. Only tests (`is defined`), `default` and
 * truth tests (`if`, `and`, `or`, `not`) may look at one; anything that would use its value
 * (printing, looping, arithmetic, comparing, filters) is an error at `at`, where it was read
 * (Jinja's StrictUndefined, with `if x` allowed): a typo must not become an empty `mac=`.
 */
export class Undefined {
  constructor(
    readonly hint: string,
    /** The source offset of the read that produced it; -1 when there is none (loop.previtem). */
    readonly at = -1,
  ) {}
}

/** What an operation may spend; charge() and refuse() throw a TemplateError at its position. */
export interface Meter {
  charge(steps: number): void;
  refuse(message: string): never;
  /** The longest string (in UTF-16 units) any operation may build. */
  readonly maxChars: number;
  /** The most items any list may hold. */
  readonly maxItems: number;
}

/** How deep lists and dictionaries may nest before printing or comparing them is refused. */
export const MAX_VALUE_DEPTH = 100;
/** Work on text is charged one step per this many characters (plus one for the call). */
export const CHARS_PER_STEP = 32;

export function textCost(chars: number): number {
  return 1 + Math.floor(chars / CHARS_PER_STEP);
}

export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}

export function isDict(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Undefined) && Object.getPrototypeOf(v) === null;
}

export function newDict(): Dict {
  return Object.create(null) as Dict;
}

/** Deep-copies JSON-like data into template values; anything else is dropped. */
export function toValue(input: unknown, budget = { nodes: 200_000 }, depth = 0): Value {
  if (--budget.nodes < 0) throw new Error("The template context is too large.");
  if (depth > 32) return null;
  if (input === null || input === undefined) return null;
  if (typeof input === "boolean" || typeof input === "string") return input;
  if (typeof input === "number") return Number.isFinite(input) ? input : null;
  if (input instanceof Date) return input.toISOString();
  if (Array.isArray(input)) return input.map((x) => toValue(x, budget, depth + 1));
  if (typeof input === "object") {
    const out = newDict();
    for (const key of Object.keys(input)) {
      const v = (input as Record<string, unknown>)[key];
      if (typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") continue;
      out[key] = toValue(v, budget, depth + 1);
    }
    return out;
  }
  return null;
}

/** Whether a dictionary has any key, without listing them all. */
export function hasKeys(d: Dict): boolean {
  for (const _ in d) return true;
  return false;
}

export function truthy(v: Value): boolean {
  if (v === null || isUndefined(v)) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return hasKeys(v);
}

/** How a scalar prints, following Jinja (None, True, False); lists and dicts need str(). */
export function plain(v: Exclude<Value, Value[] | Dict>): string {
  if (isUndefined(v)) return "";
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return String(v);
  // Only strings are left, unless an engine bug let something else in: print nothing of it.
  return typeof v === "string" ? v : "";
}

/** Python's repr of a string: quotes, with backslashes and quotes escaped (a linear scan). */
function quote(s: string): string {
  let out = "'";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */ || c === 39 /* ' */) {
      out += s.slice(from, i) + "\\" + s[i];
      from = i + 1;
    }
  }
  return out + s.slice(from) + "'";
}

/** How a value prints, following Jinja (None, True, ['a'], {'k': 1}); bounded by the meter. */
export function str(v: Value, m: Meter): string {
  if (!Array.isArray(v) && !isDict(v)) return plain(v);
  const parts: string[] = [];
  let length = 0;
  const push = (s: string) => {
    length += s.length;
    if (length > m.maxChars) m.refuse(`Printing this value would make more than ${m.maxChars.toLocaleString("en")} characters`);
    m.charge(textCost(s.length));
    parts.push(s);
  };
  const walk = (x: Value, depth: number): void => {
    if (Array.isArray(x)) {
      if (depth >= MAX_VALUE_DEPTH) m.refuse(`This value nests deeper than ${MAX_VALUE_DEPTH} levels`);
      push("[");
      for (let i = 0; i < x.length; i++) {
        if (i) push(", ");
        walk(x[i]!, depth + 1);
      }
      push("]");
    } else if (isDict(x)) {
      if (depth >= MAX_VALUE_DEPTH) m.refuse(`This value nests deeper than ${MAX_VALUE_DEPTH} levels`);
      push("{");
      let first = true;
      for (const k in x) {
        push(`${first ? "" : ", "}${quote(k)}: `);
        first = false;
        walk(x[k]!, depth + 1);
      }
      push("}");
    } else push(typeof x === "string" ? quote(x) : plain(x));
  };
  walk(v, 0);
  return parts.join("");
}

export function typeName(v: Value): string {
  if (isUndefined(v)) return "undefined";
  if (v === null) return "none";
  if (Array.isArray(v)) return "list";
  if (isDict(v)) return "dict";
  return typeof v;
}

/** Python's ==, charged per item and per character compared. */
export function equal(a: Value, b: Value, m: Meter, depth = 0): boolean {
  m.charge(1);
  if (isUndefined(a) || isUndefined(b)) return isUndefined(a) && isUndefined(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    if (depth >= MAX_VALUE_DEPTH) m.refuse(`This value nests deeper than ${MAX_VALUE_DEPTH} levels`);
    for (let i = 0; i < a.length; i++) if (!equal(a[i]!, b[i]!, m, depth + 1)) return false;
    return true;
  }
  if (isDict(a) && isDict(b)) {
    if (depth >= MAX_VALUE_DEPTH) m.refuse(`This value nests deeper than ${MAX_VALUE_DEPTH} levels`);
    let na = 0;
    for (const k in a) {
      na++;
      if (!Object.prototype.hasOwnProperty.call(b, k) || !equal(a[k]!, b[k]!, m, depth + 1)) return false;
    }
    let nb = 0;
    for (const _ in b) {
      m.charge(1);
      if (++nb > na) return false;
    }
    return na === nb;
  }
  if (typeof a === "string" && typeof b === "string") {
    if (a.length !== b.length) return false;
    m.charge(textCost(a.length));
  }
  return a === b;
}

/** JSON text of a value (undefined becomes null), built under the same bounds as str(). */
export function toJson(v: Value, indent: number, m: Meter): string {
  const parts: string[] = [];
  let length = 0;
  const pad = " ".repeat(Math.max(0, Math.min(10, Math.trunc(indent) || 0)));
  const push = (s: string) => {
    length += s.length;
    if (length > m.maxChars) m.refuse(`This JSON would be longer than ${m.maxChars.toLocaleString("en")} characters`);
    m.charge(textCost(s.length));
    parts.push(s);
  };
  const walk = (x: Value, depth: number): void => {
    const open = (c: string) => {
      if (depth >= MAX_VALUE_DEPTH) m.refuse(`This value nests deeper than ${MAX_VALUE_DEPTH} levels`);
      push(c);
    };
    const newline = (d: number) => (pad ? "\n" + pad.repeat(d) : "");
    if (Array.isArray(x)) {
      open("[");
      for (let i = 0; i < x.length; i++) {
        push((i ? "," : "") + newline(depth + 1));
        walk(x[i]!, depth + 1);
      }
      push((x.length ? newline(depth) : "") + "]");
    } else if (isDict(x)) {
      open("{");
      let n = 0;
      for (const k in x) {
        push((n++ ? "," : "") + newline(depth + 1) + JSON.stringify(k) + (pad ? ": " : ":"));
        walk(x[k]!, depth + 1);
      }
      push((n ? newline(depth) : "") + "}");
    } else if (isUndefined(x) || x === null) push("null");
    else push(JSON.stringify(x));
  };
  walk(v, 0);
  return parts.join("");
}
