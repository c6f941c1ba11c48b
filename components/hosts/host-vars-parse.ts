// Reading the admin's host-variables text: JSON, then the PUT route's own schema, each failure
// as a sentence that says where (JSON.parse only gives an offset, or nothing useful at the end).
import { hostVarsSchema } from "@/lib/validation/templates";

/** Where JSON.parse stopped, as "line 3, column 9" (engines report an offset, some also a line). */
export function jsonErrorText(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = /position (\d+)/.exec(message);
  if (/end of JSON input/i.test(message)) return `Not valid JSON: it ends early at line ${text.split("\n").length} (a closing } ] or " is missing).`;
  if (!at) return `Not valid JSON: ${message}`;
  const offset = Number(at[1]);
  const before = text.slice(0, offset).split("\n");
  const line = before.length;
  const column = before[before.length - 1]!.length + 1;
  const reason = message.replace(/\s*(in JSON )?at position \d+.*$/, "").replace(/^JSON\.parse: /, "");
  return `Not valid JSON at line ${line}, column ${column}: ${reason}.`;
}

/** The vars the text holds, or a sentence saying what is wrong with it. */
export function parseHostVars(text: string): { vars: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch (e) {
    return { error: jsonErrorText(text, e) };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: 'Variables are a JSON object of names and values, e.g. {"username": "kiln", "disk": "/dev/sda"}.' };
  }
  const parsed = hostVarsSchema.safeParse({ vars: value });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.slice(1).join(".");
    // A bad name is an invalid_key issue whose own message is generic; the rule is in the inner one.
    const message = issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return { error: name ? `${name}: ${message}` : message };
  }
  return { vars: parsed.data.vars as Record<string, unknown> };
}
