import { describe, expect, it } from "vitest";
import { decodeQuotedPrintable, extractLink, linkToken, parseMail } from "./smtp";

const CRLF = (s: string) => s.replace(/\n/g, "\r\n");

describe("parseMail", () => {
  it("reads headers (folded, encoded-word) and a quoted-printable body with a soft-broken link", () => {
    const raw = CRLF(
      [
        "From: Kiln <kiln@localhost>",
        "To: Ada <ada@lab.example>,",
        " bob@lab.example",
        "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_from?= =?UTF-8?Q?_Kiln?=",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Open this:",
        "",
        "http://kiln.test/verify/abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQR=",
        "STUVWXYZ",
        "",
        "Caf=C3=A9 =3D ok",
      ].join("\n"),
    );
    const mail = parseMail(raw);
    expect(mail.subject).toBe("Grüße from Kiln");
    expect(mail.to).toEqual(["ada@lab.example", "bob@lab.example"]);
    expect(mail.headers.from).toBe("Kiln <kiln@localhost>");
    expect(mail.text).toContain("http://kiln.test/verify/abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ\n");
    expect(mail.text).toContain("Café = ok");
  });

  it("decodes base64 bodies and finds the text part of a multipart message", () => {
    const body = Buffer.from("Hello\nhttp://kiln.test/setup/tok\n").toString("base64");
    const raw = CRLF(
      [
        "Subject: multi",
        'Content-Type: multipart/alternative; boundary="b1"',
        "",
        "--b1",
        "Content-Type: text/html",
        "",
        "<p>html</p>",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        body,
        "--b1--",
        "",
      ].join("\n"),
    );
    expect(parseMail(raw).text).toBe("Hello\nhttp://kiln.test/setup/tok\n");
  });

  it("decodes quoted-printable bytes into UTF-8", () => {
    expect(decodeQuotedPrintable("a=3Db=\r\nc=E2=9C=93").toString("utf8")).toBe("a=bc✓");
  });
});

describe("extractLink and linkToken", () => {
  const text = "See http://kiln.test/signin. Or reset: http://kiln.test/reset-password/Tok_en-123, thanks";

  it("returns the first link under the path, without trailing punctuation", () => {
    expect(extractLink(text, "/signin")).toBe("http://kiln.test/signin");
    expect(extractLink(text, "/reset-password/")).toBe("http://kiln.test/reset-password/Tok_en-123");
    expect(linkToken(extractLink(text, "/reset-password/"))).toBe("Tok_en-123");
  });

  it("throws, quoting the mail, when no link matches", () => {
    expect(() => extractLink(text, "/verify/")).toThrow(/No link to \/verify\/… in this mail:\nSee/);
  });
});
