import { describe, expect, it } from "vitest";
import { renderTemplate, TemplateError } from "./index";
import { closestPaths, contextPaths, editDistance, fixFor } from "./suggest";
import { toValue, type Dict } from "./values";

// The shape boot/context.ts builds, trimmed to what these cases read.
const ctx = {
  host: { name: "node-07", macs: ["52:54:00:12:34:56"], interface: { mac: "52:54:00:12:34:56", name: "eth0" }, facts: { cores: 8 }, cores: 8 },
  vars: { disk: "sda", packages: ["vim"] },
  user: { name: "rita", email: "rita@lab.example", ssh_keys: [] },
  deployment: { id: "d1", urls: { done: "http://kiln.test/done" } },
};

const r = (src: string) => renderTemplate(src, ctx);
const err = (src: string): TemplateError => {
  try {
    r(src);
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error(`rendered without an error: ${src}`);
};

describe("undefined names are errors (StrictUndefined, with `if x` allowed)", () => {
  it("refuses printing an undefined attribute, at its line and column, with the closest name", () => {
    const e = err("#!ipxe\nkernel vmlinuz mac={{ host.mac }}\n");
    expect(e.kind).toBe("undefined");
    expect(e.line).toBe(2);
    // The column of "mac" after "host.": what the editor marks.
    expect(e.column).toBe(28);
    expect(e.reason).toBe("host.mac is undefined — did you mean host.interface.mac or host.macs?");
    expect(e.suggestions[0]).toBe("host.interface.mac");
    expect(e.missing).toBe("host.mac");
  });

  it("suggests for a misspelt top-level name, a loop variable and a set name", () => {
    expect(err("{{ hots.name }}").suggestions[0]).toBe("host");
    expect(err("{{ hsot.name }}").reason).toMatch(/^hsot is undefined — did you mean host/);
    expect(err("{% for package in vars.packages %}{{ pakage }}{% endfor %}").suggestions).toContain("package");
    expect(err("{% set target = '/dev/sda' %}{{ targte }}").suggestions).toContain("target");
    expect(err("{{ nothing_like_it_anywhere }}").reason).toBe("nothing_like_it_anywhere is undefined");
  });

  it("refuses looping over, computing with, comparing and filtering an undefined value", () => {
    expect(err("{% for k in user.ssh_key %}{{ k }}{% endfor %}").suggestions).toContain("user.ssh_keys");
    expect(err("{{ host.cpus + 1 }}").reason).toMatch(/^host.cpus is undefined/);
    expect(err("{% if vars.role == 'db' %}x{% endif %}").reason).toMatch(/^vars.role is undefined/);
    expect(err("{{ vars.dsk|upper }}").suggestions).toContain("vars.disk");
    expect(err("{{ -host.memory }}").kind).toBe("undefined");
    expect(err("{{ vars.nope.deeper }}").reason).toMatch(/^vars.nope is undefined/);
    expect(err("{{ deployment.urls.don|tojson }}").suggestions[0]).toBe("deployment.urls.done");
    expect(err("{{ 'x' ~ vars.missing }}").kind).toBe("undefined");
  });

  it("allows tests, default and truth tests on an undefined value", () => {
    expect(r("{{ host.mac is defined }} {{ nope is undefined }} {{ vars.role is not defined }}")).toBe("False True True");
    expect(r("{{ host.mac|default('none') }} {{ vars.disk|d('sdb') }} {{ vars.x|default(vars.disk) }}")).toBe("none sda sda");
    expect(r("{% if vars.role %}db{% else %}plain{% endif %}{% if not host.mac %}!{% endif %}")).toBe("plain!");
    expect(r("{{ vars.role or 'web' }} {{ 'on' if vars.debug else 'off' }} {{ 'y' if vars.debug }}|")).toBe("web off |");
    expect(r("{% if vars.role is defined and vars.role == 'db' %}db{% endif %}ok")).toBe("ok");
    expect(r("{{ vars.get('role', 'web') }}")).toBe("web");
    // Assigning an undefined is allowed, as in Jinja; using it is not.
    expect(r("{% set role = vars.role %}{{ role is defined }}")).toBe("False");
  });
});

describe("suggestions", () => {
  it("measures edits with transpositions as one", () => {
    expect(editDistance("host", "hsot")).toBe(1);
    expect(editDistance("mac", "macs")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("lists the context's dotted paths and ranks a right name in the wrong place first", () => {
    const paths = contextPaths(toValue(ctx) as Dict);
    expect(paths).toContain("host.interface.mac");
    expect(paths).toContain("deployment.urls.done");
    expect(closestPaths("host.mac", paths)[0]).toBe("host.interface.mac");
    expect(closestPaths("user.nmae", paths)[0]).toBe("user.name");
    expect(closestPaths("zzzzzz", paths)).toEqual([]);
  });

  it("stays bounded on a huge context", () => {
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 50_000; i++) big[`k${i}`] = { a: { b: i } };
    const t0 = Date.now();
    const paths = contextPaths(toValue(big) as Dict);
    expect(paths.length).toBeLessThanOrEqual(2000);
    closestPaths("k1.a.c", paths);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe("the editor's fix for a suggestion", () => {
  it("replaces the missing last part at the error's position", () => {
    expect(fixFor("host.mac", "host.interface.mac")).toEqual({ length: 3, text: "interface.mac" });
    expect(fixFor("user.nmae", "user.name")).toEqual({ length: 4, text: "name" });
    expect(fixFor("hots", "host")).toEqual({ length: 4, text: "host" });
    expect(fixFor("vars.dsk", "host.facts.disks")).toBeNull();
    expect(fixFor("host.macs[5]", "host.macs")).toBeNull();
  });

  it("gives text that renders, applied where the error points", () => {
    const src = "#!ipxe\nkernel vmlinuz mac={{ host.mac }}\n";
    const e = err(src);
    const fix = fixFor(e.missing!, e.suggestions[0]!)!;
    const lines = src.split("\n");
    const line = lines[e.line - 1]!;
    lines[e.line - 1] = line.slice(0, e.column - 1) + fix.text + line.slice(e.column - 1 + fix.length);
    expect(r(lines.join("\n"))).toBe("#!ipxe\nkernel vmlinuz mac=52:54:00:12:34:56\n");
  });
});
