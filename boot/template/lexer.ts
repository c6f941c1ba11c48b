// Splits a Jinja-style template into text and tag tokens, and tag contents into
// expression tokens. Positions are kept so every error names a line and column.
import { positionAt, TemplateError } from "./errors";

export type TokKind = "text" | "var_start" | "var_end" | "block_start" | "block_end" | "name" | "number" | "string" | "op" | "eof";
export type Token = { kind: TokKind; value: string; offset: number };

const OPERATORS = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"];

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const fail = (msg: string, offset: number): never => {
    const p = positionAt(source, offset);
    throw new TemplateError(msg, p.line, p.column, "syntax");
  };
  let i = 0;
  let stripNextText = false;
  // trim_blocks, as Ansible and most provisioning tools set it: the newline right
  // after a block tag is dropped, so {% if %} lines do not leave blank lines behind.
  let trimNewline = false;

  const pushText = (text: string, offset: number) => {
    if (stripNextText) text = text.replace(/^\s+/, "");
    else if (trimNewline) text = text.replace(/^\r?\n/, "");
    stripNextText = false;
    trimNewline = false;
    if (text) tokens.push({ kind: "text", value: text, offset });
  };

  while (i < source.length) {
    const open = source.indexOf("{", i);
    const next = (() => {
      for (let j = open; j !== -1 && j < source.length; j = source.indexOf("{", j + 1)) {
        const c = source[j + 1];
        if (c === "{" || c === "%" || c === "#") return j;
      }
      return -1;
    })();
    if (next === -1) {
      pushText(source.slice(i), i);
      break;
    }
    let text = source.slice(i, next);
    const kind = source[next + 1];
    const stripBefore = source[next + 2] === "-";
    if (stripBefore) text = text.replace(/\s+$/, "");
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
      const m = /\{%-?\s*endraw\s*-?%\}/g;
      m.lastIndex = end + 2;
      const found = m.exec(source);
      if (!found) fail("{% raw %} is never closed: add {% endraw %}", next);
      tokens.push({ kind: "text", value: source.slice(end + 2, found!.index), offset: end + 2 });
      i = found!.index + found![0].length;
      continue;
    }
    tokens.push({ kind: kind === "{" ? "var_start" : "block_start", value: "", offset: next });
    tokens.push(...inner);
    tokens.push({ kind: kind === "{" ? "var_end" : "block_end", value: "", offset: end });
    stripNextText = stripAfter;
    trimNewline = kind === "%" && !stripAfter;
    i = end + 2;
  }
  tokens.push({ kind: "eof", value: "", offset: source.length });
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
    while (i < source.length && /\s/.test(source[i]!)) i++;
    if (i >= source.length) fail(`This tag is never closed: add ${closer}`, start);
    if (depth === 0 && (source.startsWith(closer, i) || (source[i] === "-" && source.startsWith(closer, i + 1)))) {
      const end = source[i] === "-" ? i + 1 : i;
      return { tokens, end };
    }
    const c = source[i]!;
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i, i + 256))!;
      tokens.push({ kind: "name", value: m[0], offset: i });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(source.slice(i, i + 64))!;
      tokens.push({ kind: "number", value: m[0], offset: i });
      i += m[0].length;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let value = "";
      while (j < source.length && source[j] !== c) {
        if (source[j] === "\\" && j + 1 < source.length) {
          const e = source[j + 1]!;
          value += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
          j += 2;
        } else value += source[j++];
      }
      if (j >= source.length) fail("This string is never closed", i);
      tokens.push({ kind: "string", value, offset: i });
      i = j + 1;
    } else {
      const op = OPERATORS.find((o) => source.startsWith(o, i));
      if (!op) fail(`Unexpected character “${c}”`, i);
      if (op === "(" || op === "[" || op === "{") depth++;
      if ((op === ")" || op === "]" || op === "}") && depth > 0) depth--;
      tokens.push({ kind: "op", value: op!, offset: i });
      i += op!.length;
    }
  }
}
