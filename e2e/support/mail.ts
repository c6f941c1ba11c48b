// Reads mail captured by the real SMTP server that global setup runs (through its small JSON API).
import { expect } from "@playwright/test";
import { readState } from "./state";

export type Mail = { to: string[]; subject: string; text: string };

export async function waitForMail(to: string, subjectIncludes: string, timeoutMs = 15_000): Promise<Mail> {
  const { mailApi } = readState();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${mailApi}/mails?to=${encodeURIComponent(to)}`);
    const mails = (await res.json()) as Mail[];
    const found = mails.find((m) => m.subject.includes(subjectIncludes));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} with subject containing “${subjectIncludes}” within ${timeoutMs} ms`);
}

export async function countMails(to: string): Promise<number> {
  const res = await fetch(`${readState().mailApi}/mails?to=${encodeURIComponent(to)}`);
  return ((await res.json()) as Mail[]).length;
}

export function linkIn(mail: Mail, pathPrefix: string): string {
  const match = mail.text.match(new RegExp(`https?://\\S+${pathPrefix.replace(/[/]/g, "\\/")}[A-Za-z0-9_-]+`));
  expect(match, `a ${pathPrefix} link in “${mail.subject}”`).not.toBeNull();
  return match![0];
}
