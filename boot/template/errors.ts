/** A template problem with the position a person can jump to in the editor. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly kind: "syntax" | "render" | "limit" = "syntax",
  ) {
    super(`${message} (line ${line}, column ${column})`);
    this.name = "TemplateError";
  }
  /** The message without the position suffix. */
  get reason(): string {
    return this.message.replace(/ \(line \d+, column \d+\)$/, "");
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
