// A run's console tail: the last lines a machine printed, as plain text a person can read on
// the run's page (escape sequences and carriage-return redraws removed). Bounded by lines and
// by bytes, whichever is smaller, so a chatty machine costs the database one small row.
import { StringDecoder } from "node:string_decoder";

export const TAIL_MAX_LINES = 200;
export const TAIL_MAX_BYTES = 64 * 1024;

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), and two-byte ESC sequences.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
const COMPLETE_ESCAPE = new RegExp(`^(?:${ESCAPES.source})`);
// eslint-disable-next-line no-control-regex
const OTHER_CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

export class ConsoleTail {
  private lines: string[];
  /** The line being written (no newline yet). */
  private current = "";
  private decoder = new StringDecoder("utf8");
  private pendingEscape = "";
  dirty = false;

  constructor(initial = "") {
    this.lines = initial ? initial.split("\n") : [];
    // What was stored ended mid-line: carry on writing that line.
    if (this.lines.length) this.current = this.lines.pop()!;
  }

  push(chunk: Buffer): void {
    let s = this.pendingEscape + this.decoder.write(chunk);
    this.pendingEscape = "";
    // An escape sequence cut by the chunk boundary waits for the rest.
    const esc = s.lastIndexOf("\x1b");
    if (esc !== -1 && s.length - esc < 32 && !COMPLETE_ESCAPE.test(s.slice(esc))) {
      this.pendingEscape = s.slice(esc);
      s = s.slice(0, esc);
    }
    // So is a CR at the very end: it may be the first half of a CRLF.
    if (s.endsWith("\r")) {
      this.pendingEscape = "\r" + this.pendingEscape;
      s = s.slice(0, -1);
    }
    s = s.replace(ESCAPES, "").replace(/\r\n/g, "\n");
    for (const part of s.split(/(\n)/)) {
      if (part === "\n") {
        this.lines.push(this.current);
        this.current = "";
        continue;
      }
      // A lone CR redraws the line (progress bars): keep what was drawn last.
      const cr = part.lastIndexOf("\r");
      const text = (cr === -1 ? part : part.slice(cr + 1)).replace(OTHER_CONTROLS, "");
      this.current = cr === -1 ? this.current + text : text;
    }
    if (s) this.dirty = true;
    this.trim();
  }

  private trim(): void {
    if (this.lines.length > TAIL_MAX_LINES) this.lines.splice(0, this.lines.length - TAIL_MAX_LINES);
    if (this.current.length > TAIL_MAX_BYTES) this.current = this.current.slice(-TAIL_MAX_BYTES);
    let bytes = Buffer.byteLength(this.current);
    for (const l of this.lines) bytes += Buffer.byteLength(l) + 1;
    while (bytes > TAIL_MAX_BYTES && this.lines.length) bytes -= Buffer.byteLength(this.lines.shift()!) + 1;
  }

  text(): string {
    return [...this.lines, this.current].join("\n");
  }
}
