// The only values a template ever touches: null, booleans, finite numbers, strings,
// arrays and null-prototype dictionaries, copied out of the caller's context. No
// functions, no prototypes, no host objects: nothing to climb out through.

export type Dict = { [key: string]: Value };
export type Value = null | boolean | number | string | Value[] | Dict | Undefined;

export class Undefined {
  constructor(readonly hint: string) {}
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

export function truthy(v: Value): boolean {
  if (v === null || isUndefined(v)) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

function repr(v: Value): string {
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  return str(v);
}

/** How a value prints, following Jinja (None, True, ['a'], {'k': 1}). */
export function str(v: Value): string {
  if (isUndefined(v)) return "";
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(repr).join(", ")}]`;
  if (!isDict(v)) return "";
  return `{${Object.keys(v).map((k) => `'${k}': ${repr(v[k]!)}`).join(", ")}}`;
}

export function typeName(v: Value): string {
  if (isUndefined(v)) return "undefined";
  if (v === null) return "none";
  if (Array.isArray(v)) return "list";
  if (isDict(v)) return "dict";
  return typeof v;
}

export function equal(a: Value, b: Value): boolean {
  if (isUndefined(a) || isUndefined(b)) return isUndefined(a) && isUndefined(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]!));
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k]!, b[k]!));
  }
  return a === b;
}
