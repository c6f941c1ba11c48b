// One file: one recursive-descent parser; its statement and expression rules call each other and
// share the token cursor and depth cap.
// A recursive-descent parser for the Jinja subset Kiln supports: output, if/elif/else,
// for (with else, loop variables and an inline filter), set, comments, raw, filters,
// tests and Python-style expressions. Nesting is capped so hostile input cannot
// exhaust the stack.
import type { Expr, Node } from "./ast";
import { positionAt, TemplateError } from "./errors";
import { tokenize, type Token } from "./lexer";

const MAX_DEPTH = 64;

/** Own keys only: `constructor` or `toString` is a name to look up, never Object's function. */
const LITERALS: Record<string, unknown> = Object.assign(Object.create(null), { true: true, True: true, false: false, False: false, none: null, None: null });

export function parseTemplate(source: string): Node[] {
  return new Parser(source).parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private depth = 0;
  /** The for-loops being parsed, innermost last: a `loop` name marks the innermost as using it. */
  private readonly loops: { used: boolean }[] = [];

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  private fail(msg: string, offset = this.peek().offset): never {
    const p = positionAt(this.source, offset);
    throw new TemplateError(msg, p.line, p.column, "syntax");
  }

  private peek(n = 0): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private isOp(v: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === "op" && t.value === v;
  }
  private isName(v: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === "name" && t.value === v;
  }
  private expectOp(v: string): Token {
    if (!this.isOp(v)) this.fail(`Expected “${v}” here, found ${this.describe(this.peek())}`);
    return this.next();
  }
  private expectName(v?: string): Token {
    const t = this.peek();
    if (t.kind !== "name" || (v && t.value !== v)) this.fail(v ? `Expected “${v}” here, found ${this.describe(t)}` : `Expected a name here, found ${this.describe(t)}`);
    return this.next();
  }
  private describe(t: Token): string {
    if (t.kind === "eof") return "the end of the template";
    if (t.kind === "var_end") return "“}}”";
    if (t.kind === "block_end") return "“%}”";
    if (t.kind === "text") return "text";
    return `“${t.value}”`;
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`The template nests deeper than ${MAX_DEPTH} levels`);
  }
  private leave(): void {
    this.depth--;
  }

  parseAll(): Node[] {
    const body = this.parseBody([]);
    if (this.peek().kind !== "eof") this.fail(`Unexpected {% ${this.peek(1).value} %} here`);
    return body;
  }

  /** Parses nodes until one of the `ends` block keywords (left unconsumed) or the end. */
  private parseBody(ends: string[]): Node[] {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === "eof") {
        if (ends.length) this.fail(`Missing {% ${ends[ends.length - 1]} %}: a block is never closed`);
        return nodes;
      }
      if (t.kind === "text") {
        nodes.push({ t: "text", value: this.next().value });
      } else if (t.kind === "var_start") {
        this.next();
        const expr = this.parseExpr();
        if (this.peek().kind !== "var_end") this.fail(`Expected “}}” here, found ${this.describe(this.peek())}`);
        this.next();
        nodes.push({ t: "output", expr, at: t.offset });
      } else if (t.kind === "block_start") {
        const kw = this.peek(1);
        if (kw.kind !== "name") this.fail("Expected a keyword such as if, for or set after {%", kw.offset);
        if (ends.includes(kw.value)) return nodes;
        this.next();
        this.next();
        nodes.push(this.parseStatement(kw));
      } else {
        this.fail(`Unexpected ${this.describe(t)}`);
      }
    }
  }

  private endTag(): void {
    if (this.peek().kind !== "block_end") this.fail(`Expected “%}” here, found ${this.describe(this.peek())}`);
    this.next();
  }

  private closeBlock(name: string): void {
    this.next(); // block_start
    this.expectName(name);
    this.endTag();
  }

  private parseStatement(kw: Token): Node {
    this.enter();
    try {
      switch (kw.value) {
        case "if": {
          const branches: { test: Expr; body: Node[] }[] = [];
          let test = this.parseExpr();
          this.endTag();
          let elseBody: Node[] | null = null;
          for (;;) {
            const body = this.parseBody(["elif", "else", "endif"]);
            branches.push({ test, body });
            const which = this.peek(1).value;
            if (which === "elif") {
              this.next();
              this.next();
              test = this.parseExpr();
              this.endTag();
              continue;
            }
            if (which === "else") {
              this.next();
              this.next();
              this.endTag();
              elseBody = this.parseBody(["endif"]);
            }
            this.closeBlock("endif");
            return { t: "if", branches, else: elseBody, at: kw.offset };
          }
        }
        case "for": {
          const targets = [this.expectName().value];
          while (this.isOp(",")) {
            this.next();
            targets.push(this.expectName().value);
          }
          this.expectName("in");
          const iter = this.parseOr();
          let filter: Expr | null = null;
          if (this.isName("if")) {
            this.next();
            filter = this.parseOr();
          }
          this.endTag();
          const loop = { used: false };
          this.loops.push(loop);
          const body = this.parseBody(["else", "endfor"]);
          this.loops.pop();
          let elseBody: Node[] | null = null;
          if (this.peek(1).value === "else") {
            this.next();
            this.next();
            this.endTag();
            elseBody = this.parseBody(["endfor"]);
          }
          this.closeBlock("endfor");
          return { t: "for", targets, iter, filter, body, else: elseBody, usesLoop: loop.used, at: kw.offset };
        }
        case "set": {
          const name = this.expectName().value;
          this.expectOp("=");
          const expr = this.parseExpr();
          this.endTag();
          return { t: "set", name, expr, at: kw.offset };
        }
        case "include":
        case "import":
        case "extends":
        case "from":
          return this.fail(`{% ${kw.value} %} is not available: templates cannot read other files`, kw.offset);
        case "macro":
        case "call":
          return this.fail(`{% ${kw.value} %} is not supported in Kiln templates`, kw.offset);
        default:
          return this.fail(`Unknown tag {% ${kw.value} %}`, kw.offset);
      }
    } finally {
      this.leave();
    }
  }

  // ---- expressions, lowest precedence first ----

  private parseExpr(): Expr {
    this.enter();
    try {
      const at = this.peek().offset;
      const value = this.parseOr();
      if (this.isName("if")) {
        this.next();
        const test = this.parseOr();
        let otherwise: Expr | null = null;
        if (this.isName("else")) {
          this.next();
          otherwise = this.parseExpr();
        }
        return { t: "cond", test, then: value, else: otherwise, at };
      }
      return value;
    } finally {
      this.leave();
    }
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isName("or")) {
      const at = this.next().offset;
      left = { t: "binary", op: "or", left, right: this.parseAnd(), at };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isName("and")) {
      const at = this.next().offset;
      left = { t: "binary", op: "and", left, right: this.parseNot(), at };
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isName("not")) {
      const at = this.next().offset;
      this.enter();
      try {
        return { t: "unary", op: "not", value: this.parseNot(), at };
      } finally {
        this.leave();
      }
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    let left = this.parseConcat();
    for (;;) {
      const t = this.peek();
      if (t.kind === "op" && ["==", "!=", "<", ">", "<=", ">="].includes(t.value)) {
        this.next();
        left = { t: "binary", op: t.value, left, right: this.parseConcat(), at: t.offset };
      } else if (this.isName("in")) {
        this.next();
        left = { t: "binary", op: "in", left, right: this.parseConcat(), at: t.offset };
      } else if (this.isName("not") && this.isName("in", 1)) {
        this.next();
        this.next();
        left = { t: "binary", op: "not in", left, right: this.parseConcat(), at: t.offset };
      } else if (this.isName("is")) {
        this.next();
        let negated = false;
        if (this.isName("not")) {
          this.next();
          negated = true;
        }
        const name = this.expectName().value;
        const args: Expr[] = [];
        if (this.isOp("(")) args.push(...this.parseArgs().args);
        else if (this.peek().kind === "number" || this.peek().kind === "string") args.push(this.parsePrimary());
        left = { t: "test", value: left, name, args, negated, at: t.offset };
      } else return left;
    }
  }

  private parseConcat(): Expr {
    let left = this.parseAdd();
    while (this.isOp("~")) {
      const at = this.next().offset;
      left = { t: "binary", op: "~", left, right: this.parseAdd(), at };
    }
    return left;
  }

  private parseAdd(): Expr {
    let left = this.parseMul();
    while (this.isOp("+") || this.isOp("-")) {
      const t = this.next();
      left = { t: "binary", op: t.value, left, right: this.parseMul(), at: t.offset };
    }
    return left;
  }

  private parseMul(): Expr {
    let left = this.parseUnary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("//") || this.isOp("%")) {
      const t = this.next();
      left = { t: "binary", op: t.value, left, right: this.parseUnary(), at: t.offset };
    }
    return left;
  }

  private parseUnary(): Expr {
    if (this.isOp("-") || this.isOp("+")) {
      const t = this.next();
      this.enter();
      try {
        return { t: "unary", op: t.value as "-" | "+", value: this.parseUnary(), at: t.offset };
      } finally {
        this.leave();
      }
    }
    return this.parseFilters(this.parsePostfix(this.parsePrimary()));
  }

  private parseFilters(value: Expr): Expr {
    while (this.isOp("|")) {
      const at = this.next().offset;
      const name = this.expectName().value;
      const { args, kwargs } = this.isOp("(") ? this.parseArgs() : { args: [], kwargs: [] };
      value = { t: "filter", value, name, args, kwargs, at };
    }
    return value;
  }

  private parsePostfix(value: Expr): Expr {
    for (;;) {
      if (this.isOp(".")) {
        const at = this.next().offset;
        const t = this.peek();
        if (t.kind !== "name" && t.kind !== "number") this.fail(`Expected an attribute name after “.”, found ${this.describe(t)}`);
        this.next();
        if (t.kind === "name" && this.isOp("(")) {
          value = { t: "method", obj: value, name: t.value, args: this.parseArgs().args, at };
        } else {
          value = t.kind === "number" ? { t: "index", obj: value, key: { t: "lit", value: Number(t.value), at: t.offset }, at } : { t: "attr", obj: value, name: t.value, at };
        }
      } else if (this.isOp("[")) {
        const at = this.next().offset;
        const key = this.parseExpr();
        this.expectOp("]");
        value = { t: "index", obj: value, key, at };
      } else return value;
    }
  }

  private parseArgs(): { args: Expr[]; kwargs: [string, Expr][] } {
    this.expectOp("(");
    const args: Expr[] = [];
    const kwargs: [string, Expr][] = [];
    while (!this.isOp(")")) {
      if (this.peek().kind === "name" && this.isOp("=", 1)) {
        const name = this.next().value;
        this.next();
        kwargs.push([name, this.parseExpr()]);
      } else {
        if (kwargs.length) this.fail("Positional arguments must come before named ones");
        args.push(this.parseExpr());
      }
      if (!this.isOp(",")) break;
      this.next();
    }
    this.expectOp(")");
    return { args, kwargs };
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    this.enter();
    try {
      if (t.kind === "number") {
        this.next();
        return { t: "lit", value: Number(t.value), at: t.offset };
      }
      if (t.kind === "string") {
        this.next();
        let value = t.value;
        // Adjacent string literals concatenate, as in Python.
        while (this.peek().kind === "string") value += this.next().value;
        return { t: "lit", value, at: t.offset };
      }
      if (t.kind === "name") {
        this.next();
        if (Object.hasOwn(LITERALS, t.value)) return { t: "lit", value: LITERALS[t.value], at: t.offset };
        if (this.isOp("(")) {
          const { args, kwargs } = this.parseArgs();
          return { t: "call", name: t.value, args, kwargs, at: t.offset };
        }
        if (t.value === "loop" && this.loops.length) this.loops[this.loops.length - 1]!.used = true;
        return { t: "name", name: t.value, at: t.offset };
      }
      if (t.kind === "op" && t.value === "(") {
        this.next();
        const e = this.parseExpr();
        if (this.isOp(",")) {
          // A tuple: treated as a list.
          const items = [e];
          while (this.isOp(",")) {
            this.next();
            if (this.isOp(")")) break;
            items.push(this.parseExpr());
          }
          this.expectOp(")");
          return { t: "list", items, at: t.offset };
        }
        this.expectOp(")");
        return e;
      }
      if (t.kind === "op" && t.value === "[") {
        this.next();
        const items: Expr[] = [];
        while (!this.isOp("]")) {
          items.push(this.parseExpr());
          if (!this.isOp(",")) break;
          this.next();
        }
        this.expectOp("]");
        return { t: "list", items, at: t.offset };
      }
      if (t.kind === "op" && t.value === "{") {
        this.next();
        const items: [Expr, Expr][] = [];
        while (!this.isOp("}")) {
          const k = this.parseExpr();
          this.expectOp(":");
          items.push([k, this.parseExpr()]);
          if (!this.isOp(",")) break;
          this.next();
        }
        this.expectOp("}");
        return { t: "dict", items, at: t.offset };
      }
      return this.fail(`Expected a value here, found ${this.describe(t)}`);
    } finally {
      this.leave();
    }
  }
}
