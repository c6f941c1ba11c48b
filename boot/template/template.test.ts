import { describe, expect, it } from "vitest";
import { renderTemplate, TemplateError } from "./index";

const ctx = {
  host: { name: "node-07", macs: ["52:54:00:12:34:56"], facts: { cores: 8 } },
  vars: { disk: "nvme0n1", packages: ["vim", "curl"], empty: "" },
  user: { name: "Rita", email: "rita@lab.example", ssh_keys: ["ssh-ed25519 AAAA rita@laptop", "ssh-rsa BBBB rita@desk"] },
  base_url: "http://kiln.test",
};

const r = (src: string, c: Record<string, unknown> = ctx, limits = {}) => renderTemplate(src, c, limits);

describe("Jinja compatibility", () => {
  it("renders variables, attributes, defaults and filters", () => {
    expect(r("{{ host.name }}")).toBe("node-07");
    expect(r("{{ vars.disk|default('sda') }} {{ vars.nope|default('sda') }} {{ vars.nope|d('x') }}")).toBe("nvme0n1 sda x");
    expect(r("{{ vars.empty|default('fallback', true) }}")).toBe("fallback");
    expect(r("{{ host['name']|upper }} {{ vars.packages|join(' ') }} {{ vars.packages|length }}")).toBe("NODE-07 vim curl 2");
    expect(r("{{ user.name ~ '@' ~ host.name }}")).toBe("Rita@node-07");
    expect(r("{{ 'a,b'.split(',')|first }}{{ '  x '.strip() }}")).toBe("ax");
    expect(r("{{ vars|tojson }}")).toBe('{"disk":"nvme0n1","packages":["vim","curl"],"empty":""}');
    expect(r("{{ 'it''s'|shell_quote }}")).toBe(`'its'`);
    expect(r("{{ \"it's\"|shell_quote }}")).toBe(`'it'"'"'s'`);
  });

  it("renders if/elif/else, for with loop variables and else, set, and comments", () => {
    expect(r("{% if host.facts.cores > 16 %}big{% elif host.facts.cores > 4 %}mid{% else %}small{% endif %}")).toBe("mid");
    expect(r("{% for k in user.ssh_keys %}{{ loop.index }}:{{ k.split(' ')|last }}{% if not loop.last %},{% endif %}{% endfor %}")).toBe("1:rita@laptop,2:rita@desk");
    expect(r("{% for x in [] %}x{% else %}none{% endfor %}")).toBe("none");
    expect(r("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}")).toBe("a=1;b=2;");
    expect(r("{% set d = vars.disk %}{# hidden #}/dev/{{ d }}")).toBe("/dev/nvme0n1");
    expect(r("{% for i in range(3) if i != 1 %}{{ i }}{% endfor %}")).toBe("02");
    expect(r("{{ 'yes' if vars.disk is defined else 'no' }} {{ vars.x is not defined }}")).toBe("yes True");
  });

  it("gives each loop its own loop variable, built only where a body names it", () => {
    expect(r("{% for a in [1, 2] %}{% set outer = loop %}{% for b in 'xy' %}{{ outer.index }}{{ loop.index }}{{ b }} {% endfor %}{% endfor %}")).toBe("11x 12y 21x 22y ");
    expect(r("{% for a in [1, 2] %}{% for b in [3] %}{{ a }}{{ b }}{% endfor %}{{ loop.last }};{% endfor %}")).toBe("13False;23True;");
    expect(r("{% for a in [1, 2] %}{% for b in [3] %}{{ loop.index }}{% else %}{% endfor %}{% endfor %}")).toBe("11");
  });

  it("trims the newline after a block tag and honours - whitespace control", () => {
    expect(r("{% if true %}\nA\n{% endif %}\nB")).toBe("A\nB");
    expect(r("x   {%- if true -%}   y   {%- endif %}")).toBe("xy");
    expect(r("{% raw %}{{ not rendered }}{% endraw %}")).toBe("{{ not rendered }}");
  });

  it("prints None/True/False and lists like Jinja", () => {
    expect(r("{{ none }} {{ true }} {{ [1, 'a'] }}|")).toBe("None True [1, 'a']|");
  });

  it("reports syntax errors with line and column", () => {
    const err = (() => {
      try {
        r("line1\n{% if host.name %}\n{{ host.name }\n");
      } catch (e) {
        return e as TemplateError;
      }
    })();
    expect(err).toBeInstanceOf(TemplateError);
    expect(err!.line).toBeGreaterThanOrEqual(2);
    expect(() => r("{% for x in y %}")).toThrow(/Missing \{% endfor %\}/);
    expect(() => r("{{ 1 + }}")).toThrow(/line 1, column/);
    expect(() => r("{% frobnicate %}")).toThrow(/Unknown tag/);
  });

  it("reports render errors with position", () => {
    // The position is that of the name that is not there ("nope"), not of the attribute after it.
    expect(() => r("\n\n  {{ vars.nope.deeper }}")).toThrow(/vars.nope is undefined \(line 3, column 11\)/);
    expect(() => r("{{ 1 / 0 }}")).toThrow(/Division by zero/);
    expect(() => r("{{ x|nosuchfilter }}")).toThrow(/Unknown filter/);
  });
});

// Each payload must be refused with a TemplateError or render to harmless text; none
// may reach a JavaScript function, global, the environment, files or the network.
const ESCAPES: string[] = [
  "{{ constructor }}",
  "{{ ''.constructor }}",
  "{{ ''.constructor.constructor('return process')() }}",
  "{{ range.constructor('return process')() }}",
  "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
  "{{ joiner.__init__.__globals__ }}",
  "{{ lipsum.__globals__['os'].popen('id') }}",
  "{{ self.__init__.__globals__.__builtins__ }}",
  "{{ [].__class__.__base__.__subclasses__() }}",
  "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  "{{ host.__proto__ }}",
  "{{ host['__proto__'] }}",
  "{{ host['constructor']['constructor']('return this')() }}",
  "{{ host.name.constructor.prototype }}",
  "{{ vars.packages.constructor.from }}",
  "{{ process }}",
  "{{ process['env'] }}",
  "{{ require('fs') }}",
  "{{ import('fs') }}",
  "{{ globalThis }}",
  "{{ global.process.mainModule.require('child_process') }}",
  "{{ this }}",
  "{{ eval('1+1') }}",
  "{{ Function('return process')() }}",
  "{{ 1|constructor }}",
  "{{ 1|toString }}",
  "{{ x is constructor }}",
  "{{ 'a'.constructor() }}",
  "{{ 'a'.valueOf() }}",
  "{{ {'a': 1}.hasOwnProperty('a') }}",
  "{{ {'__proto__': {'polluted': 1}} }}",
  "{% set __proto__ = 1 %}",
  "{% set constructor = 1 %}{{ constructor }}",
  "{{ host._secret }}",
  "{{ vars|attr('__class__') }}",
  "{% include '/etc/passwd' %}",
  "{% import 'os' as os %}",
  "{% extends '/etc/passwd' %}",
  "{% macro x() %}{{ x() }}{% endmacro %}{{ x() }}",
  "{{ fetch('http://127.0.0.1') }}",
  "{{ dict(__proto__={'polluted': 1}) }}",
  "{{ host.toString }}",
  "{{ host.hasOwnProperty }}",
  "{{ user.ssh_keys.map }}",
  "{{ user.ssh_keys['constructor'] }}",
];

describe("sandbox", () => {
  it.each(ESCAPES)("refuses or defuses %s", (payload) => {
    let out = "";
    try {
      out = r(payload);
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      return;
    }
    // Rendered: it must be plain text with nothing of the JS world in it.
    expect(out).not.toMatch(/function|native code|\[object|process|uid=|root:|polluted|Object|Renderer/i);
    expect(out.length).toBeLessThan(100);
  });

  it("does not pollute prototypes", () => {
    try {
      r("{% set x = {'__proto__': {'polluted': 'yes'}} %}{{ x }}");
    } catch {
      /* refused is fine */
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("sees nothing of functions or class instances in the context", () => {
    const sneaky = { fn: () => "called", date: new Date(0), map: new Map([["a", 1]]), nested: { fn() { return 1; } } };
    expect(r("{{ fn is defined }}|{{ date }}|{{ map }}|{{ nested }}", sneaky)).toBe("False|1970-01-01T00:00:00.000Z|{}|{}");
    expect(() => r("{{ fn() }}", sneaky)).toThrow(TemplateError);
  });

  it.each([
    ["a huge loop", "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"],
    ["a giant range", "{{ range(1000000000)|length }}"],
    ["giant output", "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}"],
    ["string repetition", "{{ 'x' * 1000000000 }}"],
    ["list repetition", "{{ [1] * 100000000 }}"],
    ["doubling", "{% set s = 'xxxxxxxxxx' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s|length }}"],
    ["deep nesting", "{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}"],
    ["deep blocks", "{% if true %}".repeat(500) + "x" + "{% endif %}".repeat(500)],
    ["unary chain", "{{ " + "not ".repeat(10000) + "true }}"],
    ["replace blow-up", "{{ ('x' * 1000)|replace('x', 'yyyyyyyyyy' * 1000) }}"],
  ])("stops %s within the limits", (_name, payload) => {
    const started = Date.now();
    expect(() => r(payload as string, ctx, { maxOutputBytes: 1024 * 1024, timeoutMs: 2000 })).toThrow(TemplateError);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
