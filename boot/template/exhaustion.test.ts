// Resource exhaustion, one family per operation whose cost grows with its input. Each
// payload runs with the clock effectively off (timeoutMs: 60 s), so what stops it must be
// the step budget, a size checked before the value is built, or a nesting cap, and it must
// stop fast, as a TemplateError with a line and column (kind "limit" unless noted).
import { describe, expect, it } from "vitest";
import { compileTemplate, renderTemplate, TemplateError } from "./index";

const NO_CLOCK = { timeoutMs: 60_000 };
/** Generous for a shared 2-core machine; each of these stops in well under a second alone. */
const FAST_MS = 3000;

function refused(src: string, context: Record<string, unknown> = {}, pattern?: RegExp): TemplateError {
  const started = performance.now();
  let err: unknown;
  try {
    renderTemplate(src, context, NO_CLOCK);
  } catch (e) {
    err = e;
  }
  const ms = performance.now() - started;
  expect(err, `no error for ${src.slice(0, 80)}`).toBeInstanceOf(TemplateError);
  const te = err as TemplateError;
  expect(te.line).toBeGreaterThanOrEqual(1);
  expect(te.column).toBeGreaterThanOrEqual(1);
  if (pattern) expect(te.message).toMatch(pattern);
  expect(ms).toBeLessThan(FAST_MS);
  return te;
}

function quick(src: string, context: Record<string, unknown> = {}): string {
  const started = performance.now();
  const out = renderTemplate(src, context, NO_CLOCK);
  expect(performance.now() - started).toBeLessThan(FAST_MS);
  return out;
}

const STEPS = /too much work/;
// A list holding itself twice, sixty times over: 2^60 leaves behind 61 small arrays.
// (Names set in a loop stay in it, as in Jinja: the payload runs on its last turn.)
const dag = (expr: string) => "{% set a = [1] %}{% for i in range(60) %}{% set a = [a, a] %}{% if loop.last %}" + expr + "{% endif %}{% endfor %}";
// Nesting deeper than any value may: 150 levels of one-item lists.
const deep = (expr: string) => "{% set a = [] %}{% for i in range(150) %}{% set a = [a] %}{% if loop.last %}" + expr + "{% endif %}{% endfor %}";
const BIG_LIST = "{% set l = ['x' * 1000] * 100000 %}";

describe("comparison (== and !=) is charged per item and character", () => {
  it("long lists compared in a loop", () => {
    refused("{% set a = [1] * 100000 %}{% set b = [1] * 100000 %}{% for i in range(1000) %}{% if a == b %}{% endif %}{% endfor %}", {}, STEPS);
  });
  it("an exponentially shared list", () => refused(dag("{{ a == a }}"), {}, STEPS));
  it("large dictionaries", () => {
    const d = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
    refused("{% for i in range(1000) %}{{ d != e }}{% endfor %}", { d, e: { ...d } }, STEPS);
  });
  it("long strings", () => refused("{% set s = 'x' * 1000000 %}{% set t = 'x' * 1000000 %}{% for i in range(100000) %}{% if s == t or s < t %}{% endif %}{% endfor %}", {}, STEPS));
  it("values nested too deeply", () => refused(deep("{{ a == a }}"), {}, /nests deeper/));
  it("the eq test and list.index/count", () => {
    refused("{% set l = [[1, 2]] * 100000 %}{% for i in range(1000) %}{{ l.count([1, 2]) }}{% endfor %}", {}, STEPS);
    refused(dag("{{ a is eq(a) }}"), {}, STEPS);
  });
});

describe("membership (in) is charged for what it reads", () => {
  it("a substring search in a long string, repeated", () => refused("{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{% if 'y' in s %}{% endif %}{% endfor %}", {}, STEPS));
  it("a list of lists", () => refused("{% set l = [[1, 2, 3]] * 100000 %}{% for i in range(1000) %}{{ [9] in l }}{% endfor %}", {}, STEPS));
  it("the in test through select", () => refused("{% set l = [1] * 100000 %}{% set m = [2] * 100000 %}{{ l|select('in', m)|list|length }}", {}, STEPS));
});

describe("stringification is charged and sized as it is built", () => {
  it("printing an exponentially shared list", () => refused(dag("{{ a }}"), {}, /characters|too much work/));
  it("|string of a big list, repeated", () => refused(BIG_LIST + "{% for i in range(1000) %}{% set s = l|string %}{% endfor %}", {}, /characters|too much work/));
  it("printing a deeply nested value", () => refused(deep("{{ a }}"), {}, /nests deeper/));
  it("join of long items", () => refused(BIG_LIST + "{{ l|join(',') }}", {}, /join would make/));
});

describe("JSON output (tojson) is charged and sized", () => {
  it("an exponentially shared list", () => refused(dag("{{ a|tojson }}"), {}, /JSON would be longer|too much work/));
  it("a deeply nested value", () => refused(deep("{{ a|tojson }}"), {}, /nests deeper/));
  it("indent cannot multiply it", () => refused(BIG_LIST + "{{ l|tojson(10) }}", {}, /JSON would be longer|too much work/));
  it("still renders JSON like before", () => {
    expect(quick("{{ {'a': [1, 'x', none, true]}|tojson }}")).toBe('{"a":[1,"x",null,true]}');
    expect(quick("{{ {'a': [1]}|tojson(2) }}")).toBe(JSON.stringify({ a: [1] }, null, 2));
  });
});

describe("concatenation (~ and +) is sized before it is built and charged", () => {
  it("~ doubling", () => refused("{% set s = 'x' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}", {}, /would grow to/));
  it("~ of a long string, repeated", () => refused("{% set s = 'x' * 500000 %}{% for i in range(100000) %}{% set t = s ~ i %}{% endfor %}", {}, STEPS));
  it("+ on strings", () => refused("{% set s = 'x' * 500000 %}{% for i in range(100000) %}{% set t = s + 'y' %}{% endfor %}", {}, STEPS));
  it("+ on lists", () => refused("{% set l = [0] * 50000 %}{% for i in range(100000) %}{% set m = l + l %}{% endfor %}", {}, STEPS));
  it("+ on lists past the list cap", () => refused("{% set l = [0] * 60000 %}{% set m = l + l %}", {}, /would grow to 120,000 items/));
});

describe("repetition (*) is sized before it is built", () => {
  it("a string a billion times", () => refused("{{ 'x' * 1000000000 }}", {}, /would grow to 1,000,000,000 characters/));
  it("a list a hundred million times", () => refused("{{ [1, 2] * 100000000 }}", {}, /would grow to 200,000,000 items/));
  it("a number times a list", () => refused("{{ 100000000 * [1] }}", {}, /items/));
  it("within the caps, charged", () => refused("{% for i in range(100000) %}{% set s = 'x' * 1000000 %}{% endfor %}", {}, STEPS));
});

describe("sort and unique are charged per comparison and character", () => {
  it("sorting long equal strings", () => refused(BIG_LIST + "{{ l|sort|length }}", {}, STEPS));
  it("sorting by attribute", () => refused("{% set l = [{'n': 'x' * 100000}] * 100000 %}{{ l|sort(attribute='n')|length }}", {}, STEPS));
  it("unique of long items", () => refused(BIG_LIST + "{% for i in range(100) %}{{ l|unique|length }}{% endfor %}", {}, STEPS));
  it("min/max/dictsort", () => refused(BIG_LIST + "{% for i in range(100) %}{{ l|max|length }}{% endfor %}", {}, STEPS));
  it("still sorts", () => expect(quick("{{ [3, 1, 2]|sort|join(',') }} {{ ['b', 'a', 'a']|unique|join }} {{ ['b', 'a']|sort(reverse=true)|first }}")).toBe("1,2,3 ba b"));
});

describe("no backtracking regular expression over template text", () => {
  it("the lexer trims a long run of spaces before {%- in linear time", () => {
    const src = "x" + " ".repeat(400_000) + "y{%- if true %}z{% endif %}";
    const started = performance.now();
    expect(quick(src)).toBe("x" + " ".repeat(400_000) + "yz");
    expect(performance.now() - started).toBeLessThan(1000);
  });
  it("the lexer looks for endraw in linear time", () => {
    const src = "{% raw %}" + ("{%" + " ".repeat(50) + "endra").repeat(8000) + "{% endraw %}";
    expect(quick(src).length).toBe(8000 * 57);
    expect(() => compileTemplate("{% raw %}" + ("{%-" + " ".repeat(60)).repeat(8000))).toThrow(/never closed/);
  });
  it("strip/lstrip/rstrip with characters scan instead of matching", () => {
    expect(quick("{% set s = ' ' * 300000 ~ 'x' ~ ' ' * 300000 %}{{ s.strip(' ')|length }} {{ s.rstrip(' ')|length }} {{ s.lstrip(' ')|length }}")).toBe("1 300001 300001");
    refused("{% set s = ' ' * 300000 ~ 'x' %}{% for i in range(100000) %}{% set t = s.strip(' ') %}{% endfor %}", {}, STEPS);
  });
  it("split, replace, title and escape are scans, sized first", () => {
    refused("{{ ('x' * 1000000).split('x')|length }}", {}, /split would make a list/);
    refused("{{ ('x' * 1000000)|replace('x', 'yy') }}", {}, /replace would make/);
    refused("{{ ('<' * 500000)|escape }}", {}, /escape would make/);
    refused("{{ (\"'\" * 300000)|shell_quote }}", {}, /shell_quote would make/);
    refused("{{ ('x' * 400000)|urlencode }}", {}, /urlencode would make 1,200,000/);
    expect(quick("{{ 'a-a-a-a'|replace('a', 'bb', 2) }} {{ 'aaa'.replace('a', 'b') }} {{ 'abc'|replace('', 'x') }}")).toBe("bb-bb-a-a bbb abc");
    expect(quick("{{ 'hello wORLD-x'|title }} {{ 'a b  c'.split()|join('|') }} {{ 'a,b,c'.split(',', 1)|join('|') }}")).toBe("Hello World-X a|b|c a|b,c");
  });
  it("no filter takes a pattern from the template", () => {
    for (const name of ["regex_replace", "regex_search", "regex_findall", "match", "search"]) refused(`{{ 'x'|${name}('(a+)+$') }}`, {}, /Unknown filter/);
  });
});

describe("deep nesting is refused with a position, never a RangeError", () => {
  it.each([
    ["parentheses", "{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}"],
    ["lists", "{{ " + "[".repeat(5000) + "]".repeat(5000) + " }}"],
    ["dictionaries", "{{ " + "{'a': ".repeat(3000) + "1" + "}".repeat(3000) + " }}"],
    ["blocks", "{% if true %}".repeat(500) + "x" + "{% endif %}".repeat(500)],
    ["not chains", "{{ " + "not ".repeat(10000) + "true }}"],
    ["unary minus", "{{ " + "-".repeat(10000) + "1 }}"],
  ])("%s", (_name, src) => {
    const te = refused(src);
    expect(te.kind).toBe("syntax");
    expect(te.message).toMatch(/nests deeper than 64/);
  });
  it.each([
    ["a + chain", "{{ " + "1 + ".repeat(20000) + "1 }}"],
    ["an attribute chain", "{{ x" + ".y".repeat(20000) + " }}"],
    ["a filter chain", "{{ 'x'" + "|first".repeat(20000) + " }}"],
    ["an index chain", "{{ x" + "[0]".repeat(20000) + " }}"],
  ])("%s is refused when evaluated", (_name, src) => {
    const te = refused(src, { x: [[[1]]] });
    expect(te.message).toMatch(/nests deeper than 200|undefined/);
  });
  it("deeply nested context data is cut, not crashed on", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(quick("{{ d|length }}", { d: deep })).toBe("1");
  });
});

describe("huge literals", () => {
  it("a number with hundreds of thousands of digits", () => {
    const te = refused("line one\n  {{ " + "9".repeat(400_000) + " }}");
    expect(te.message).toMatch(/This number has 400,000 digits/);
    expect([te.line, te.column]).toEqual([2, 6]);
  });
  it("a 10-million-digit number, or a giant string: larger than a template may be", () => {
    for (const src of ["{{ " + "1".repeat(10_000_000) + " }}", "{{ '" + "x".repeat(600_000) + "' }}"]) {
      const te = refused(src, {}, /larger than 512 KiB/);
      expect(te.column).toBeGreaterThan(1);
    }
  });
  it("a list literal of 200,000 items", () => {
    const te = refused("{{ [" + "1,".repeat(200_000) + "1] }}", {}, /more than 100,000 tokens/);
    expect(te.column).toBeGreaterThan(100_000);
  });
  it("a string literal of 500 KB still renders", () => expect(quick("{{ '" + "x".repeat(500_000) + "' }}").length).toBe(500_000));
});

describe("any error out of compile or render is a TemplateError with a position", () => {
  it("for random input", () => {
    // A fixed-seed generator: the same 3,000 templates every run.
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    const pieces = ["{{", "}}", "{%", "%}", "{#", "#}", "if", "for", "in", "x", "set", "=", "(", ")", "[", "]", "{", "}", "'", '"', "|", "join", "~", "*", "+", "1", "99999999999", "range", "endif", "endfor", ".", ",", ":", "-", " ", "\n", "loop", "raw", "endraw", "not", "is", "defined", "\\", "\u0000", "\ud800"];
    for (let n = 0; n < 3000; n++) {
      const src = Array.from({ length: 1 + rand(40) }, () => pieces[rand(pieces.length)]).join("");
      try {
        renderTemplate(src, { x: [1, "a", { b: null }] }, { maxSteps: 100_000 });
      } catch (e) {
        expect(e, src).toBeInstanceOf(TemplateError);
        expect((e as TemplateError).line, src).toBeGreaterThanOrEqual(1);
      }
    }
  });
});
