// One file: the template language's evaluator; its node and expression cases share the step meter
// and limits, and read best together.
// Renders a parsed template against plain data, within limits on steps (loop
// iterations, evaluations, and the work of every operation that grows with its input),
// time, output size and value size. Attribute access reads only own keys of
// null-prototype dictionaries and list indexes, and names beginning with "_" or naming
// constructors are refused outright.
import type { Expr, Node } from "./ast";
import { positionAt, TemplateError } from "./errors";
import { contains, FILTERS, keysOf, METHODS, TESTS, type Helpers } from "./builtins";
import { closestPaths, contextPaths } from "./suggest";
import { equal, isDict, isUndefined, newDict, str, textCost, toValue, truthy, typeName, Undefined, type Dict, type Meter, type Value } from "./values";

export type Limits = { maxSteps: number; maxOutputBytes: number; maxListItems: number; timeoutMs: number };

export const DEFAULT_LIMITS: Limits = { maxSteps: 1_000_000, maxOutputBytes: 1024 * 1024, maxListItems: 100_000, timeoutMs: 1000 };

/** How deeply expressions may nest when evaluated (a chain like a.b.c… or 1+1+… is one level per link). */
const MAX_EVAL_DEPTH = 200;
/** Steps between two looks at the clock. */
const CLOCK_EVERY = 1024;

const FORBIDDEN = new Set(["constructor", "prototype", "__proto__", "caller", "callee", "arguments"]);

/**
 * Where a render is, for a watcher on another thread: slot 0 holds the source offset of the
 * last step, so a render stopped from outside (render pool) can still name a line and column.
 */
let positionProbe: Int32Array | null = null;
export function setPositionProbe(probe: Int32Array | null): void {
  positionProbe = probe;
}

class Renderer implements Helpers {
  private steps = 0;
  private nextClockCheck = CLOCK_EVERY;
  private outputLength = 0;
  private evalDepth = 0;
  /** The offset of the last step, for errors that do not come with one. */
  lastAt = 0;
  private readonly deadline: number;
  private readonly out: string[] = [];

  constructor(
    private readonly source: string,
    readonly limits: Limits,
  ) {
    this.deadline = Date.now() + limits.timeoutMs;
  }

  fail(message: string, at: number, kind: TemplateError["kind"] = "render"): never {
    const p = positionAt(this.source, at);
    throw new TemplateError(message, p.line, p.column, kind);
  }

  /**
   * Fails on an undefined value that is about to be used (printed, looped over, computed
   * with), naming what was read and the closest names the context has, at where it was read.
   */
  undefinedError(u: Undefined, at: number, scope?: Dict): never {
    // Names set in loops and {% set %} are candidates too (for…in walks the loop scopes).
    const local: string[] = [];
    if (scope) for (const k in scope) if (local.length < 200) local.push(k);
    const suggestions = closestPaths(u.hint, contextPaths(this.root, local));
    const p = positionAt(this.source, u.at >= 0 ? u.at : at);
    const hint = suggestions.length ? ` — did you mean ${suggestions.slice(0, 2).join(" or ")}?` : "";
    throw new TemplateError(`${u.hint.slice(0, 200)} is undefined${hint}`, p.line, p.column, "undefined", suggestions, u.hint.slice(0, 200));
  }

  /** The value, unless it is undefined: then the error above. */
  strict(v: Value, at: number, scope?: Dict): Value {
    if (isUndefined(v)) this.undefinedError(v, at, scope);
    return v;
  }

  tick(at: number, n = 1): void {
    this.steps += n;
    this.lastAt = at;
    if (positionProbe) positionProbe[0] = at;
    if (this.steps > this.limits.maxSteps) this.fail(`The template did too much work (over ${this.limits.maxSteps.toLocaleString("en")} steps); is a loop or a value too large?`, at, "limit");
    if (this.steps >= this.nextClockCheck) {
      this.nextClockCheck = this.steps + CLOCK_EVERY;
      if (Date.now() > this.deadline) this.fail(`The template took longer than ${this.limits.timeoutMs} ms to render`, at, "limit");
    }
  }

  meter(at: number): Meter {
    return {
      charge: (n) => this.tick(at, n),
      refuse: (message) => this.fail(message, at, "limit"),
      maxChars: this.limits.maxOutputBytes,
      maxItems: this.limits.maxListItems,
    };
  }

  /** Every string or list a template builds is bounded by the output and list limits. */
  checkSize(v: Value, at: number): Value {
    if (typeof v === "string" && v.length > this.limits.maxOutputBytes) this.fail(`A value grew beyond ${this.limits.maxOutputBytes.toLocaleString("en")} characters`, at, "limit");
    if (Array.isArray(v)) {
      if (v.length > this.limits.maxListItems) this.fail(`A list grew beyond ${this.limits.maxListItems.toLocaleString("en")} items`, at, "limit");
      this.tick(at, v.length);
    }
    return v;
  }

  private fitsText(length: number, at: number): void {
    if (length > this.limits.maxOutputBytes) this.fail(`A value would grow to ${length.toLocaleString("en")} characters (at most ${this.limits.maxOutputBytes.toLocaleString("en")})`, at, "limit");
  }

  private fitsList(length: number, at: number): void {
    if (length > this.limits.maxListItems) this.fail(`A list would grow to ${length.toLocaleString("en")} items (at most ${this.limits.maxListItems.toLocaleString("en")})`, at, "limit");
  }

  /** The context the template was given, for suggesting names when one is undefined. */
  private root: Dict = newDict();

  render(nodes: Node[], scope: Dict): string {
    this.root = scope;
    this.renderNodes(nodes, scope);
    return this.out.join("");
  }

  private write(s: string, at: number): void {
    this.outputLength += s.length;
    if (this.outputLength > this.limits.maxOutputBytes) this.fail(`The output grew beyond ${Math.round(this.limits.maxOutputBytes / 1024)} KiB`, at, "limit");
    this.out.push(s);
  }

  private renderNodes(nodes: Node[], scope: Dict): void {
    for (const node of nodes) {
      switch (node.t) {
        case "text":
          this.write(node.value, 0);
          break;
        case "output": {
          this.tick(node.at);
          const v = this.strict(this.eval(node.expr, scope), node.at, scope);
          // Bounded by what is left of the output, so a huge value is refused before it is printed.
          const text = str(v, { ...this.meter(node.at), maxChars: Math.max(0, this.limits.maxOutputBytes - this.outputLength) });
          this.write(text, node.at);
          break;
        }
        case "set":
          this.tick(node.at);
          if (FORBIDDEN.has(node.name) || node.name.startsWith("_")) this.fail(`“${node.name}” cannot be used as a variable name`, node.at);
          scope[node.name] = this.eval(node.expr, scope);
          break;
        case "if": {
          this.tick(node.at);
          const branch = node.branches.find((b) => truthy(this.eval(b.test, scope)));
          if (branch) this.renderNodes(branch.body, scope);
          else if (node.else) this.renderNodes(node.else, scope);
          break;
        }
        case "for":
          this.renderFor(node, scope);
          break;
      }
    }
  }

  private renderFor(node: Extract<Node, { t: "for" }>, scope: Dict): void {
    const iterable = this.strict(this.eval(node.iter, scope), node.at, scope);
    let items: Value[];
    if (Array.isArray(iterable)) items = iterable;
    else if (isDict(iterable)) items = keysOf(this, node.at, iterable);
    else if (typeof iterable === "string") {
      this.fitsList(iterable.length, node.at);
      this.tick(node.at, textCost(iterable.length));
      items = Array.from(iterable);
    } else if (iterable === null) items = [];
    else return this.fail(`Cannot loop over a ${typeName(iterable)}`, node.at);

    // A new scope per loop, as in Jinja: names set inside do not leak out. It inherits from
    // the outer one (lookups walk the chain) instead of copying it, so entering a loop costs
    // the same however many names are set.
    const inner = Object.create(scope) as Dict;
    const bind = (item: Value) => {
      if (node.targets.length === 1) inner[node.targets[0]!] = item;
      else {
        if (!Array.isArray(item) || item.length !== node.targets.length) this.fail(`Cannot unpack ${typeName(item)} into ${node.targets.join(", ")}`, node.at);
        node.targets.forEach((t, i) => (inner[t] = (item as Value[])[i]!));
      }
    };
    if (node.filter) {
      items = items.filter((item) => {
        this.tick(node.at);
        bind(item);
        return truthy(this.eval(node.filter!, inner));
      });
    }
    if (items.length === 0) {
      if (node.else) this.renderNodes(node.else, scope);
      return;
    }
    items.forEach((item, index) => {
      this.tick(node.at);
      bind(item);
      if (node.usesLoop === false) {
        this.renderNodes(node.body, inner);
        return;
      }
      const loop = newDict();
      loop.index = index + 1;
      loop.index0 = index;
      loop.revindex = items.length - index;
      loop.revindex0 = items.length - index - 1;
      loop.first = index === 0;
      loop.last = index === items.length - 1;
      loop.length = items.length;
      loop.previtem = index > 0 ? items[index - 1]! : new Undefined("loop.previtem");
      loop.nextitem = index < items.length - 1 ? items[index + 1]! : new Undefined("loop.nextitem");
      inner.loop = loop;
      this.renderNodes(node.body, inner);
    });
  }

  getAttr(obj: Value, key: Value, at: number, label: string): Value {
    const keyText = () => (Array.isArray(key) || isDict(key) ? `a ${typeName(key)}` : str(key, this.meter(at)).slice(0, 100));
    if (typeof key === "string" && (FORBIDDEN.has(key) || key.startsWith("_"))) this.fail(`Access to “${key.slice(0, 100)}” is not allowed in templates`, at);
    if (isUndefined(obj)) this.undefinedError(obj, at);
    if (obj === null) this.fail(`${label} is none, so it has no “${keyText()}”`, at);
    if (Array.isArray(obj) || typeof obj === "string") {
      if (typeof key === "number" && Number.isInteger(key)) {
        const i = key < 0 ? obj.length + key : key;
        return i >= 0 && i < obj.length ? obj[i]! : new Undefined(`${label}[${key}]`, at);
      }
      return new Undefined(`${label}.${keyText()}`, at + 1);
    }
    if (isDict(obj) && (typeof key === "string" || typeof key === "number")) {
      const k = String(key);
      // at + 1: the attribute's name, just after its dot (or bracket).
      return Object.prototype.hasOwnProperty.call(obj, k) ? obj[k]! : new Undefined(`${label}.${k.slice(0, 100)}`, at + 1);
    }
    return new Undefined(`${label}.${keyText()}`, at + 1);
  }

  /** A readable name for an expression in messages ("host.facts.cores"); short, whatever the chain. */
  private label(e: Expr): string {
    const parts: string[] = [];
    let x: Expr = e;
    for (let n = 0; n < 8; n++) {
      if (x.t === "name") return [x.name, ...parts.reverse()].join("");
      if (x.t === "attr") parts.push(`.${x.name}`);
      else if (x.t === "index") parts.push("[…]");
      else break;
      x = x.obj;
    }
    return parts.length ? `the value${parts.reverse().join("")}` : "the value";
  }

  eval(e: Expr, scope: Dict): Value {
    this.tick(e.at);
    if (++this.evalDepth > MAX_EVAL_DEPTH) this.fail(`This expression nests deeper than ${MAX_EVAL_DEPTH} levels`, e.at, "limit");
    try {
      return this.evalInner(e, scope);
    } finally {
      this.evalDepth--;
    }
  }

  private evalInner(e: Expr, scope: Dict): Value {
    switch (e.t) {
      case "lit":
        return e.value as Value;
      case "name":
        // `in` walks the loop scopes (see renderFor); the root scope has no prototype.
        return e.name in scope ? scope[e.name]! : new Undefined(e.name, e.at);
      case "attr":
        return this.getAttr(this.eval(e.obj, scope), e.name, e.at, this.label(e.obj));
      case "index":
        return this.getAttr(this.eval(e.obj, scope), this.strict(this.eval(e.key, scope), e.at, scope), e.at, this.label(e.obj));
      case "list":
        this.fitsList(e.items.length, e.at);
        return this.checkSize(
          e.items.map((x) => this.eval(x, scope)),
          e.at,
        );
      case "dict": {
        const d = newDict();
        for (const [k, v] of e.items) {
          const key = this.strict(this.eval(k, scope), k.at, scope);
          if (typeof key !== "string" && typeof key !== "number") this.fail("Dictionary keys must be strings or numbers", k.at);
          if (FORBIDDEN.has(String(key)) || String(key).startsWith("_")) this.fail(`“${String(key).slice(0, 100)}” cannot be a dictionary key`, k.at);
          d[String(key)] = this.eval(v, scope);
        }
        return d;
      }
      case "cond":
        // `'x' if c` with no else prints nothing when c is false (it names no variable to get wrong).
        return truthy(this.eval(e.test, scope)) ? this.eval(e.then, scope) : e.else ? this.eval(e.else, scope) : "";
      case "unary": {
        const v = this.eval(e.value, scope);
        if (e.op === "not") return !truthy(v);
        this.strict(v, e.at, scope);
        if (typeof v !== "number") this.fail(`Cannot apply “${e.op}” to a ${typeName(v)}`, e.at);
        return e.op === "-" ? -v : v;
      }
      case "binary":
        return this.binary(e, scope);
      case "filter": {
        const fn = FILTERS[e.name];
        if (!fn) this.fail(`Unknown filter “${e.name}”`, e.at);
        const kwargs = newDict();
        for (const [k, v] of e.kwargs) kwargs[k] = this.strict(this.eval(v, scope), v.at, scope);
        const value = this.eval(e.value, scope);
        // default (and d) exist to handle an undefined value; every other filter would use it.
        if (e.name !== "default" && e.name !== "d") this.strict(value, e.at, scope);
        return this.checkSize(
          fn(
            this,
            e.at,
            value,
            e.args.map((a) => this.strict(this.eval(a, scope), a.at, scope)),
            kwargs,
          ),
          e.at,
        );
      }
      case "test": {
        const fn = TESTS[e.name];
        if (!fn) this.fail(`Unknown test “${e.name}”`, e.at);
        const result = fn(
          this,
          e.at,
          this.eval(e.value, scope),
          e.args.map((a) => this.strict(this.eval(a, scope), a.at, scope)),
        );
        return e.negated ? !result : result;
      }
      case "method": {
        if (FORBIDDEN.has(e.name) || e.name.startsWith("_")) this.fail(`Access to “${e.name}” is not allowed in templates`, e.at);
        const obj = this.strict(this.eval(e.obj, scope), e.at, scope);
        const kind = isDict(obj) ? "dict" : typeof obj === "string" ? "string" : Array.isArray(obj) ? "list" : null;
        const fn = kind ? METHODS[kind][e.name] : undefined;
        if (!fn) this.fail(`${typeName(obj)} has no method “${e.name}”`, e.at);
        return this.checkSize(
          fn(
            this,
            e.at,
            obj,
            e.args.map((a) => this.strict(this.eval(a, scope), a.at, scope)),
          ),
          e.at,
        );
      }
      case "call": {
        if (e.name === "range")
          return this.range(
            e.args.map((a) => this.strict(this.eval(a, scope), a.at, scope)),
            e.at,
          );
        if (e.name === "dict") {
          const d = newDict();
          for (const [k, v] of e.kwargs) {
            if (FORBIDDEN.has(k) || k.startsWith("_")) this.fail(`“${k}” cannot be a dictionary key`, e.at);
            d[k] = this.eval(v, scope);
          }
          return d;
        }
        return this.fail(`Unknown function “${e.name}”: templates can only call range() and dict()`, e.at);
      }
    }
  }

  private range(args: Value[], at: number): Value {
    if (!args.every((a) => typeof a === "number" && Number.isInteger(a))) this.fail("range() takes whole numbers", at);
    const [a, b, c] = args as number[];
    const [start, stop, step] = args.length === 1 ? [0, a!, 1] : [a!, b!, c ?? 1];
    if (step === 0) this.fail("range() step cannot be zero", at);
    const n = Math.max(0, Math.ceil((stop - start) / step));
    if (n > this.limits.maxListItems) this.fail(`range() of ${n} numbers is too large (at most ${this.limits.maxListItems.toLocaleString("en")})`, at, "limit");
    this.tick(at, n);
    return Array.from({ length: n }, (_, i) => start + i * step);
  }

  private binary(e: Extract<Expr, { t: "binary" }>, scope: Dict): Value {
    if (e.op === "and") {
      const l = this.eval(e.left, scope);
      return truthy(l) ? this.eval(e.right, scope) : l;
    }
    if (e.op === "or") {
      const l = this.eval(e.left, scope);
      return truthy(l) ? l : this.eval(e.right, scope);
    }
    const l = this.strict(this.eval(e.left, scope), e.at, scope);
    const r = this.strict(this.eval(e.right, scope), e.at, scope);
    const num = (v: Value) => (typeof v === "number" ? v : this.fail(`Expected a number, got a ${typeName(v)}`, e.at));
    switch (e.op) {
      case "==":
        return equal(l, r, this.meter(e.at));
      case "!=":
        return !equal(l, r, this.meter(e.at));
      case "<":
      case ">":
      case "<=":
      case ">=": {
        if (!((typeof l === "number" && typeof r === "number") || (typeof l === "string" && typeof r === "string"))) this.fail(`Cannot compare a ${typeName(l)} with a ${typeName(r)}`, e.at);
        if (typeof l === "string") this.tick(e.at, textCost(Math.min(l.length, (r as string).length)));
        const a = l as number | string;
        const b = r as number | string;
        return e.op === "<" ? a < b : e.op === ">" ? a > b : e.op === "<=" ? a <= b : a >= b;
      }
      case "in":
      case "not in": {
        const found = contains(this, e.at, r, l);
        return e.op === "in" ? found : !found;
      }
      case "~": {
        const m = this.meter(e.at);
        const a = str(l, m);
        const b = str(r, m);
        return this.concatText(a, b, e.at);
      }
      case "+":
        if (typeof l === "string" && typeof r === "string") return this.concatText(l, r, e.at);
        if (Array.isArray(l) && Array.isArray(r)) {
          this.fitsList(l.length + r.length, e.at);
          this.tick(e.at, l.length + r.length);
          return l.concat(r);
        }
        return num(l) + num(r);
      case "-":
        return num(l) - num(r);
      case "*": {
        const repeat = (v: string | Value[], n: number): Value => {
          if (!Number.isInteger(n) || n < 0) this.fail("Can only repeat by a whole number", e.at);
          if (typeof v === "string") {
            this.fitsText(v.length * n, e.at);
            this.tick(e.at, textCost(v.length * n));
            return v.repeat(n);
          }
          this.fitsList(v.length * n, e.at);
          this.tick(e.at, v.length * n);
          const out: Value[] = [];
          for (let i = 0; i < n; i++) for (const x of v) out.push(x);
          return out;
        };
        if (typeof l === "string" || Array.isArray(l)) return repeat(l, num(r));
        if (typeof r === "string" || Array.isArray(r)) return repeat(r, num(l));
        return num(l) * num(r);
      }
      case "/": {
        const d = num(r);
        if (d === 0) this.fail("Division by zero", e.at);
        return num(l) / d;
      }
      case "//": {
        const d = num(r);
        if (d === 0) this.fail("Division by zero", e.at);
        return Math.floor(num(l) / d);
      }
      case "%": {
        const d = num(r);
        if (d === 0) this.fail("Division by zero", e.at);
        return ((num(l) % d) + d) % d;
      }
    }
    return this.fail(`Unknown operator ${e.op}`, e.at);
  }

  /** Joins two strings, sized before and charged for the text the result holds. */
  private concatText(a: string, b: string, at: number): string {
    this.fitsText(a.length + b.length, at);
    this.tick(at, textCost(a.length + b.length));
    return a + b;
  }
}

/** Renders parsed nodes; `context` is copied into template values first. */
export function renderNodes(source: string, nodes: Node[], context: Record<string, unknown>, limits: Partial<Limits> = {}): string {
  const renderer = new Renderer(source, { ...DEFAULT_LIMITS, ...limits });
  try {
    const scope = toValue(context) as Dict;
    return renderer.render(nodes, scope);
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    // Any other error is a bug in the engine, or a resource limit of the VM itself (a
    // RangeError from the stack or a string length): report it as a template failure at
    // the last position reached, never crash.
    const p = positionAt(source, renderer.lastAt);
    const why = e instanceof RangeError ? "it needs more memory or nesting than a template may use" : (e as Error).message;
    throw new TemplateError(`The template could not be rendered: ${why}`, p.line, p.column, e instanceof RangeError ? "limit" : "render");
  }
}
