// Zod's own wording ("Too small: expected number to be >=1") is for programmers. Installed once
// (imported by ./common, which every schema module imports), this map words every issue a
// schema has no message of its own for as a sentence a person understands. Field errors shown
// under a form field need no field name ("Must be at least 1."); the one-line message of a
// refusal names the field (humanIssueMessage, used by parseInput).
import { z } from "zod";

type Issue = { code?: string; path?: PropertyKey[]; input?: unknown; [k: string]: unknown };

const TYPE_NAMES: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  date: "a date",
  null: "null",
  undefined: "absent",
  nan: "a number",
};

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && Number.isNaN(v)) return "nan";
  return typeof v;
}

function plural(n: number | bigint, one: string, many: string): string {
  return `${n} ${Number(n) === 1 ? one : many}`;
}

function bound(iss: Issue, dir: "min" | "max"): string {
  const raw = dir === "min" ? iss.minimum : iss.maximum;
  const n = (raw instanceof Date ? raw.getTime() : raw) as number | bigint;
  const inclusive = iss.inclusive !== false;
  const origin = iss.origin as string | undefined;
  const atLeast = dir === "min" ? (inclusive ? "at least" : "more than") : inclusive ? "at most" : "less than";
  switch (origin) {
    case "string":
      if (dir === "min" && Number(n) === 1 && inclusive) return "Must not be empty.";
      return `Must be ${atLeast} ${plural(n, "character", "characters")} long.`;
    case "array":
    case "set":
      if (dir === "min" && Number(n) === 1 && inclusive) return "Must have at least one item.";
      return `Must have ${atLeast} ${plural(n, "item", "items")}.`;
    case "file":
      return `Must be ${atLeast} ${plural(n, "byte", "bytes")}.`;
    case "date":
      return `Must be ${dir === "min" ? "on or after" : "on or before"} ${new Date(Number(n)).toISOString()}.`;
    default:
      return `Must be ${atLeast} ${n}.`;
  }
}

const FORMATS: Record<string, string> = {
  email: "an email address, like name@example.org",
  uuid: "an id (a UUID)",
  guid: "an id (a UUID)",
  url: "a URL, like https://example.org/",
  datetime: "a date and time, like 2026-01-31T12:00:00Z",
  date: "a date, like 2026-01-31",
  time: "a time, like 12:00:00",
  ipv4: "an IPv4 address",
  ipv6: "an IPv6 address",
  cidrv4: "an IPv4 network, like 10.0.0.0/24",
  cidrv6: "an IPv6 network",
  base64: "base64 text",
  base64url: "base64url text",
  hex: "hexadecimal text",
};

/** The sentence for an issue no schema worded itself. */
export function humanMessage(iss: Issue): string {
  switch (iss.code) {
    case "too_small":
      return bound(iss, "min");
    case "too_big":
      return bound(iss, "max");
    case "invalid_type": {
      if (iss.input === undefined && "input" in iss) return "Is required.";
      const expected = TYPE_NAMES[iss.expected as string] ?? String(iss.expected);
      const got = "input" in iss ? typeOf(iss.input) : null;
      if (iss.expected === "int" && got === "number") return "Must be a whole number.";
      return `Must be ${expected}${got && got !== iss.expected ? `, not ${TYPE_NAMES[got] ?? got}` : ""}.`;
    }
    case "invalid_format": {
      if (iss.format === "starts_with") return `Must start with “${iss.prefix as string}”.`;
      if (iss.format === "ends_with") return `Must end with “${iss.suffix as string}”.`;
      if (iss.format === "includes") return `Must include “${iss.includes as string}”.`;
      if (iss.format === "regex") return "Is not in the expected format.";
      return `Must be ${FORMATS[iss.format as string] ?? `a valid ${String(iss.format)}`}.`;
    }
    case "invalid_value": {
      const values = (iss.values as unknown[] | undefined) ?? [];
      if (values.length === 1) return `Must be ${JSON.stringify(values[0])}.`;
      return `Must be one of: ${values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ")}.`;
    }
    case "not_multiple_of":
      return `Must be a multiple of ${iss.divisor as number}.`;
    case "unrecognized_keys": {
      const keys = (iss.keys as string[] | undefined) ?? [];
      return `${keys.length === 1 ? "Unknown field" : "Unknown fields"}: ${keys.join(", ")}.`;
    }
    case "invalid_key":
      return "Has a key that is not allowed.";
    case "invalid_element":
      return "Has an entry that is not valid.";
    case "invalid_union":
      return "Is not in any of the accepted forms.";
    default:
      return "Is not valid.";
  }
}

/** A field's path as the API names it: interfaces.0.mac. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

/**
 * The one-line message of a refusal: the map's sentences get their field's name ("cpuCores
 * must be at least 1."); a schema's own wording ("Give it a name.") is left as written.
 */
export function humanIssueMessage(issue: { path: readonly PropertyKey[]; message: string }): string {
  if (issue.path.length && /^(Must |Is )/.test(issue.message)) return `${fieldPath(issue.path)} ${issue.message[0]!.toLowerCase()}${issue.message.slice(1)}`;
  return issue.message;
}

z.config({ customError: (iss) => humanMessage(iss as unknown as Issue) });
