// Kiln's template engine: Jinja syntax, rendered by our own interpreter over plain
// data (see docs/templates.md for why not nunjucks or liquidjs).
import type { Node } from "./ast";
import { TemplateError } from "./errors";
import { parseTemplate } from "./parser";
import { DEFAULT_LIMITS, renderNodes, type Limits } from "./render";

export { TemplateError, DEFAULT_LIMITS, type Limits };

export type CompiledTemplate = { source: string; nodes: Node[] };

/** Parses once; throws TemplateError with line and column on a syntax error. */
export function compileTemplate(source: string): CompiledTemplate {
  if (source.length > 512 * 1024) throw new TemplateError("The template is larger than 512 KiB", 1, 1, "limit");
  return { source, nodes: parseTemplate(source) };
}

export function renderCompiled(t: CompiledTemplate, context: Record<string, unknown>, limits?: Partial<Limits>): string {
  return renderNodes(t.source, t.nodes, context, limits);
}

export function renderTemplate(source: string, context: Record<string, unknown>, limits?: Partial<Limits>): string {
  return renderCompiled(compileTemplate(source), context, limits);
}
