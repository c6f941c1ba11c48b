// The global error map: every issue without a message of its own reads as a sentence.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import "./common";
import { humanIssueMessage } from "./error-map";
import { parseInput } from "./parse";
import { AppError } from "../errors";

function messageOf(schema: z.ZodType, input: unknown): string {
  const r = schema.safeParse(input);
  if (r.success) throw new Error("expected a failure");
  return humanIssueMessage(r.error.issues[0]!);
}

describe("zod messages", () => {
  it("word numbers, lengths and counts without zod's notation, naming the field", () => {
    const s = z.object({ count: z.number().int().min(1), name: z.string().min(3), tags: z.array(z.string()).max(2), label: z.string().min(1) });
    const base = { count: 1, name: "abc", tags: [], label: "x" };
    expect(messageOf(s, { ...base, count: 0 })).toBe("count must be at least 1.");
    expect(messageOf(s, { ...base, count: 1.5 })).toBe("count must be a whole number.");
    expect(messageOf(s, { ...base, name: "ab" })).toBe("name must be at least 3 characters long.");
    expect(messageOf(s, { ...base, tags: ["a", "b", "c"] })).toBe("tags must have at most 2 items.");
    expect(messageOf(s, { ...base, label: "" })).toBe("label must not be empty.");
    expect(messageOf(s, { ...base, count: "3" })).toBe("count must be a number, not text.");
    const { count: _count, ...noCount } = base;
    expect(messageOf(s, noCount)).toBe("count is required.");
  });

  it("word enums, formats, unknown keys and nested fields", () => {
    expect(messageOf(z.object({ state: z.enum(["on", "off"]) }), { state: "melted" })).toBe("state must be one of: on, off.");
    expect(messageOf(z.object({ id: z.uuid() }), { id: "x" })).toBe("id must be an id (a UUID).");
    expect(messageOf(z.object({ a: z.object({ b: z.array(z.object({ mac: z.string() })) }) }), { a: { b: [{ mac: 1 }] } })).toBe("a.b.0.mac must be text, not a number.");
    expect(messageOf(z.object({ a: z.string() }).strict(), { a: "x", b: 1 })).toBe("Unknown field: b.");
  });

  it("never shows zod's own wording, and leaves a schema's own message as written", () => {
    for (const [schema, input] of [
      [z.number().min(1), 0],
      [z.number().max(5), 9],
      [z.string().max(2), "abcd"],
      [z.boolean(), "yes"],
      [z.email(), "nope"],
    ] as const) {
      const msg = messageOf(schema as z.ZodType, input);
      expect(msg).not.toMatch(/Too small|Too big|expected|Invalid|>=|<=/);
    }
    expect(messageOf(z.object({ name: z.string().min(1, "Give it a name.") }), { name: "" })).toBe("Give it a name.");
  });

  it("reach API refusals through parseInput: the message names the field, the field error does not repeat it", () => {
    let err: unknown;
    try {
      parseInput(z.object({ per_page: z.number().min(1) }), { per_page: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toBe("per_page must be at least 1.");
    expect((err as AppError).details!.fieldErrors).toEqual({ per_page: ["Must be at least 1."] });
  });
});
