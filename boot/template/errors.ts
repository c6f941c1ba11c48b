/** A template problem with the position a person can jump to in the editor. */
export class TemplateError extends Error {
  /** The message without the position suffix (kept as given, not parsed back out of the message). */
  readonly reason: string;

  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly kind: "syntax" | "render" | "limit" | "undefined" = "syntax",
    /** For an undefined name: the closest names the context has ("host.interface.mac"), best first. */
    readonly suggestions: string[] = [],
    /** For an undefined name: the name as read ("host.mac"); line and column point at its last part. */
    readonly missing: string | null = null,
  ) {
    super(`${message} (line ${line}, column ${column})`);
    this.name = "TemplateError";
    this.reason = message;
  }
}

export type Pos = { line: number; column: number };

export function positionAt(source: string, offset: number): Pos {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}
