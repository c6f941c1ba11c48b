import { describe, expect, it } from "vitest";
import { ConsoleTail, TAIL_MAX_BYTES, TAIL_MAX_LINES } from "./tail";

const push = (tail: ConsoleTail, ...parts: string[]) => parts.forEach((p) => tail.push(Buffer.from(p, "utf8")));

describe("ConsoleTail", () => {
  it("keeps readable text: escapes removed, CRLF as LF, a CR redraw keeps its last drawing", () => {
    const tail = new ConsoleTail();
    push(tail, "\x1b[1;33mBoot\x1b[0ming\r\n", "50%\r100%\r\n", "\x1b]0;title\x07ok\tdone\x07\n");
    expect(tail.text()).toBe("Booting\n100%\nok\tdone\n");
  });

  it("joins what chunk boundaries cut: an escape, a CRLF, a UTF-8 character", () => {
    const tail = new ConsoleTail();
    const euro = Buffer.from("€");
    tail.push(Buffer.from("a\x1b[3"));
    tail.push(Buffer.from("1mb\r"));
    tail.push(Buffer.from("\nc"));
    tail.push(euro.subarray(0, 1));
    tail.push(euro.subarray(1));
    expect(tail.text()).toBe("ab\nc€");
  });

  it("keeps the last lines within both bounds, and continues a stored text", () => {
    const tail = new ConsoleTail("old 1\nold 2\nhalf");
    push(tail, " line\n");
    expect(tail.text()).toBe("old 1\nold 2\nhalf line\n");
    for (let i = 0; i < 500; i++) push(tail, `line ${i}\n`);
    expect(tail.text().split("\n")).toHaveLength(TAIL_MAX_LINES + 1);
    expect(tail.text().endsWith("line 499\n")).toBe(true);
    for (let i = 0; i < 100; i++) push(tail, `${"x".repeat(2000)}\n`);
    expect(Buffer.byteLength(tail.text())).toBeLessThanOrEqual(TAIL_MAX_BYTES);
    expect(tail.dirty).toBe(true);
  });
});
