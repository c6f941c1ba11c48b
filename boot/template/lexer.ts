// Splits a Jinja-style template into text and tag tokens, and tag contents into
// expression tokens. Positions are kept so every error names a line and column.
//
// Every scan here is a plain loop over characters: no regular expression touches template
// text (a pattern such as /\s+$/ backtracks quadratically on a long run of spaces), and a
// template can hold at most MAX_TOKENS tokens and no literal longer than what a value may be.
import { positionAt, TemplateError } from "./errors";

export type TokKind = "text" | "var_start" | "var_end" | "block_start" | "block_end" | "name" | "number" | "string" | "op" | "eof";
export type Token = { kind: TokKind; value: string; offset: number };

const OPERATORS = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"];

/** More tokens than any real template has (the built-ins have a few thousand); bounds parser memory. */
export const MAX_TOKENS = 100_000;
/** Digits of a number literal: a double has about 17 significant ones. */
const MAX_NUMBER_CHARS = 40;
const MAX_NAME_CHARS = 256;

/** The whitespace of JavaScript's \s and String.prototype.trim. */
export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
const isDigit = (c: number) => c >= 48 && c <= 57;
const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isNameChar = (c: number) => isNameStart(c) || isDigit(c);

/** Drops one leading newline (\n or \r\n), as trim_blocks does. */
function dropNewline(text: string): string {
  if (text.startsWith("\n")) return text.slice(1);
  if (text.startsWith("\r\n")) return text.slice(2);
  return text;
}

/** Where `{%-? endraw -?%}` starts at or after `from`, and where it ends; a scan, not a pattern. */
function findEndRaw(source: string, from: number): { start: number; end: number } | null {
  for (let i = source.indexOf("{%", from); i !== -1; i = source.indexOf("{%", i + 2)) {
    let j = i + 2;
    if (source[j] === "-") j++;
    while (j < source.length && isSpace(source.charCodeAt(j))) j++;
    if (!source.startsWith("endraw", j)) continue;
    j += 6;
    while (j < source.length && isSpace(source.charCodeAt(j))) j++;
    if (source[j] === "-") j++;
    if (source.startsWith("%}", j)) return { start: i, end: j + 2 };
  }
  return null;
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const fail = (msg: string, offset: number): never => {
    const p = positionAt(source, offset);
    throw new TemplateError(msg, p.line, p.column, "syntax");
  };
  const push = (t: Token) => {
    if (tokens.length >= MAX_TOKENS) fail(`The template has more than ${MAX_TOKENS.toLocaleString("en")} tokens; split it up`, t.offset);
    tokens.push(t);
  };
  let i = 0;
  let stripNextText = false;
  // trim_blocks, as Ansible and most provisioning tools set it: the newline right
  // after a block tag is dropped, so {% if %} lines do not leave blank lines behind.
  let trimNewline = false;

  const pushText = (text: string, offset: number) => {
    if (stripNextText) text = text.trimStart();
    else if (trimNewline) text = dropNewline(text);
    stripNextText = false;
    trimNewline = false;
    if (text) push({ kind: "text", value: text, offset });
  };

  while (i < source.length) {
    let next = -1;
    for (let j = source.indexOf("{", i); j !== -1; j = source.indexOf("{", j + 1)) {
      const c = source[j + 1];
      if (c === "{" || c === "%" || c === "#") {
        next = j;
        break;
      }
    }
    if (next === -1) {
      pushText(source.slice(i), i);
      break;
    }
    let text = source.slice(i, next);
    const kind = source[next + 1];
    const stripBefore = source[next + 2] === "-";
    if (stripBefore) text = text.trimEnd();
    pushText(text, i);
    const bodyStart = next + (stripBefore ? 3 : 2);

    if (kind === "#") {
      const end = source.indexOf("#}", bodyStart);
      if (end === -1) fail("This comment is never closed: add #}", next);
      stripNextText = source[end - 1] === "-";
      i = end + 2;
      continue;
    }
    const closer = kind === "{" ? "}}" : "%}";
    const { tokens: inner, end } = tokenizeTag(source, bodyStart, closer, fail);
    const stripAfter = source[end - 1] === "-" && end - 1 >= bodyStart;
    // {% raw %}…{% endraw %}: everything between is text, untouched.
    if (kind === "%" && inner.length === 1 && inner[0]!.kind === "name" && inner[0]!.value === "raw") {
      const found = findEndRaw(source, end + 2);
      if (!found) return fail("{% raw %} is never closed: add {% endraw %}", next);
      push({ kind: "text", value: source.slice(end + 2, found.start), offset: end + 2 });
      i = found.end;
      continue;
    }
    push({ kind: kind === "{" ? "var_start" : "block_start", value: "", offset: next });
    for (const t of inner) push(t);
    push({ kind: kind === "{" ? "var_end" : "block_end", value: "", offset: end });
    stripNextText = stripAfter;
    trimNewline = kind === "%" && !stripAfter;
    i = end + 2;
  }
  push({ kind: "eof", value: "", offset: source.length });
  return tokens;
}

function tokenizeTag(
  source: string,
  start: number,
  closer: string,
  fail: (msg: string, offset: number) => never,
): { tokens: Token[]; end: number } {
  const tokens: Token[] = [];
  let i = start;
  // Brackets open inside the tag: "}}" closes {{ … }} only at depth 0, so {{ {'a': {'b': 1}} }} works.
  let depth = 0;
  for (;;) {
    while (i < source.length && isSpace(source.charCodeAt(i))) i++;
    if (i >= source.length) fail(`This tag is never closed: add ${closer}`, start);
    if (tokens.length > MAX_TOKENS) fail(`The template has more than ${MAX_TOKENS.toLocaleString("en")} tokens; split it up`, i);
    if (depth === 0 && (source.startsWith(closer, i) || (source[i] === "-" && source.startsWith(closer, i + 1)))) {
      const end = source[i] === "-" ? i + 1 : i;
      return { tokens, end };
    }
    const c = source.charCodeAt(i);
    if (isNameStart(c)) {
      let j = i + 1;
      while (j < source.length && isNameChar(source.charCodeAt(j))) j++;
      if (j - i > MAX_NAME_CHARS) fail(`This name is longer than ${MAX_NAME_CHARS} characters`, i);
      tokens.push({ kind: "name", value: source.slice(i, j), offset: i });
      i = j;
    } else if (isDigit(c)) {
      let j = i;
      while (j < source.length && isDigit(source.charCodeAt(j))) j++;
      if (source[j] === "." && isDigit(source.charCodeAt(j + 1))) {
        j++;
        while (j < source.length && isDigit(source.charCodeAt(j))) j++;
      }
      if (j - i > MAX_NUMBER_CHARS) fail(`This number has ${(j - i).toLocaleString("en")} digits; a template number has at most ${MAX_NUMBER_CHARS}`, i);
      tokens.push({ kind: "number", value: source.slice(i, j), offset: i });
      i = j;
    } else if (c === 39 || c === 34) {
      const quote = source[i]!;
      const parts: string[] = [];
      let from = i + 1;
      let j = i + 1;
      while (j < source.length && source[j] !== quote) {
        if (source[j] === "\\" && j + 1 < source.length) {
          const e = source[j + 1]!;
          parts.push(source.slice(from, j), e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e);
          j += 2;
          from = j;
        } else j++;
      }
      if (j >= source.length) fail("This string is never closed", i);
      parts.push(source.slice(from, j));
      tokens.push({ kind: "string", value: parts.join(""), offset: i });
      i = j + 1;
    } else {
      const op = OPERATORS.find((o) => source.startsWith(o, i));
      if (!op) fail(`Unexpected character “${source[i]}”`, i);
      if (op === "(" || op === "[" || op === "{") depth++;
      if ((op === ")" || op === "]" || op === "}") && depth > 0) depth--;
      tokens.push({ kind: "op", value: op!, offset: i });
      i += op!.length;
    }
  }
}
