// What registration says afterwards, with and without a mail server (the e2e Kiln always has one).
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { RegisterDone } from "./register-form";

const text = (isMailConfigured: boolean) =>
  renderToStaticMarkup(createElement(RegisterDone, { email: "ada@lab.example", isMailConfigured }))
    .replace(/<[^>]+>/g, "")
    .replace(/&#x27;/g, "'")
    .replace(/\s+/g, " ");

describe("after registering", () => {
  it("says where the link went when Kiln has no mail server, instead of 'check your mail'", () => {
    const t = text(false);
    expect(t).not.toMatch(/check your mail/i);
    expect(t).toContain("This Kiln has no mail server configured (SMTP_URL), so nothing was emailed to ada@lab.example");
    expect(t).toContain("written to the server's log and to the administrators' outbox (Admin → Outbox)");
  });

  it("says to check the mail when there is one", () => {
    expect(text(true)).toContain("Check your mail: we sent a link to ada@lab.example.");
  });
});
