// Kiln's template engine: Jinja syntax, rendered by our own interpreter over plain
// data (see docs/templates.md for why not nunjucks or liquidjs). Person-written templates
// are rendered through lib/templates/render-pool.ts, on a worker thread that can be stopped;
// these functions are the engine itself, for that worker and for Kiln's own fixed scripts.
import type { Node } from "./ast";
import { positionAt, TemplateError } from "./errors";
import { parseTemplate } from "./parser";
import { DEFAULT_LIMITS, renderNodes, setPositionProbe, type Limits } from "./render";

export { TemplateError, DEFAULT_LIMITS, setPositionProbe, type Limits };

/** The largest template Kiln accepts (the API refuses larger ones before they get here). */
export const MAX_TEMPLATE_CHARS = 512 * 1024;

export type CompiledTemplate = { source: string; nodes: Node[] };

/** Parses once; throws TemplateError with line and column on a syntax error. */
export function compileTemplate(source: string): CompiledTemplate {
  if (source.length > MAX_TEMPLATE_CHARS) {
    const p = positionAt(source, MAX_TEMPLATE_CHARS);
    throw new TemplateError("The template is larger than 512 KiB", p.line, p.column, "limit");
  }
  try {
    return { source, nodes: parseTemplate(source) };
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    // The parser bounds its own nesting and size; anything else is an engine bug, never a 500.
    throw new TemplateError(`The template could not be parsed: ${e instanceof RangeError ? "it is too large or nests too deeply" : (e as Error).message}`, 1, 1, "limit");
  }
}

export function renderCompiled(t: CompiledTemplate, context: Record<string, unknown>, limits?: Partial<Limits>): string {
  return renderNodes(t.source, t.nodes, context, limits);
}

export function renderTemplate(source: string, context: Record<string, unknown>, limits?: Partial<Limits>): string {
  return renderCompiled(compileTemplate(source), context, limits);
}
