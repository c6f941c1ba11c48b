// A real SMTP server in the test process: Kiln's nodemailer transport talks SMTP to it over
// 127.0.0.1, and every accepted message is captured here. No vitest imports, so the
// Playwright e2e can use it too.
import { EventEmitter } from "node:events";
import net from "node:net";
import { SMTPServer } from "smtp-server";

export type CapturedMail = {
  /** The message as received after DATA, CRLF line ends. */
  raw: string;
  /** SMTP envelope. */
  envelope: { from: string | null; to: string[] };
  /** Header names lower-cased; repeated headers joined with ", "; encoded-words decoded. */
  headers: Record<string, string>;
  subject: string;
  /** Recipients from the To header, lower-cased bare addresses. */
  to: string[];
  /** The text/plain body, transfer encoding undone, LF line ends. */
  text: string;
  receivedAt: Date;
};

export type SmtpHandle = {
  /** For SMTP_URL, e.g. smtp://127.0.0.1:40123 */
  url: string;
  port: number;
  messages: CapturedMail[];
  /** Messages whose envelope or To header names this address. */
  mailsTo: (address: string) => CapturedMail[];
  /** Resolves with the first message (already received or arriving later) that matches. */
  waitForMail: (predicate: (m: CapturedMail) => boolean, timeoutMs?: number) => Promise<CapturedMail>;
  clear: () => void;
  /** Closes the listener; SMTP_URL then points at a closed port, which is how "SMTP down" is simulated. */
  stop: () => Promise<void>;
};

export async function startSmtp(): Promise<SmtpHandle> {
  const messages: CapturedMail[] = [];
  const arrivals = new EventEmitter();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    banner: "kiln test smtp",
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", (e) => callback(e));
      stream.on("end", () => {
        // Captured before the 250 reply, so once Kiln's sendMail returns the message is here.
        const raw = Buffer.concat(chunks).toString("utf8");
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
        const mail = parseMail(raw, { from, to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()) });
        messages.push(mail);
        arrivals.emit("mail", mail);
        callback();
      });
    },
  });
  server.on("error", () => {}); // a client dropping the connection is not a test failure

  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address !== "object") throw new Error("the test SMTP server did not get a port");
  const port = address.port;
  let stopped = false;

  const mailsTo = (addr: string) => {
    const a = addr.toLowerCase();
    return messages.filter((m) => m.envelope.to.includes(a) || m.to.includes(a));
  };

  const waitForMail = (predicate: (m: CapturedMail) => boolean, timeoutMs = 5_000) =>
    new Promise<CapturedMail>((resolve, reject) => {
      const found = messages.find(predicate);
      if (found) return resolve(found);
      const onMail = (m: CapturedMail) => {
        if (!predicate(m)) return;
        clearTimeout(timer);
        arrivals.off("mail", onMail);
        resolve(m);
      };
      const timer = setTimeout(() => {
        arrivals.off("mail", onMail);
        const seen = messages.map((m) => `  to ${m.to.join(",")}: ${m.subject}`).join("\n") || "  (none)";
        reject(new Error(`No matching mail arrived within ${timeoutMs} ms. Received:\n${seen}`));
      }, timeoutMs);
      arrivals.on("mail", onMail);
    });

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    mailsTo,
    waitForMail,
    clear: () => void messages.splice(0),
    stop: () =>
      stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            stopped = true;
            server.close(() => resolve());
          }),
  };
}

/** An SMTP URL on a port where nothing listens: for "the mail server is down". */
export async function unusedSmtpUrl(): Promise<string> {
  return `smtp://127.0.0.1:${await closedPort()}`;
}

/** A 127.0.0.1 port that was free a moment ago and has no listener now. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The first absolute http(s) URL in the text whose path starts with pathPrefix
 * (e.g. "/verify/"). Throws when there is none, quoting the text.
 */
export function extractLink(text: string, pathPrefix: string): string {
  for (const match of text.matchAll(/https?:\/\/[^\s<>"')]+/g)) {
    const candidate = match[0].replace(/[.,;:!?]+$/, "");
    try {
      if (new URL(candidate).pathname.startsWith(pathPrefix)) return candidate;
    } catch {
      // not a URL after all; keep looking
    }
  }
  throw new Error(`No link to ${pathPrefix}… in this mail:\n${text}`);
}

/** The last path segment of a link: the token of /verify/<token>, /reset-password/<token>, /setup/<token>. */
export function linkToken(link: string): string {
  const segments = new URL(link).pathname.split("/").filter(Boolean);
  const last = segments.at(-1);
  if (!last) throw new Error(`The link ${link} has no path segment.`);
  return decodeURIComponent(last);
}

// ---- a minimal RFC 5322 / MIME reader (mailparser does not install here) ----

export function parseMail(raw: string, envelope: CapturedMail["envelope"] = { from: null, to: [] }): CapturedMail {
  const { headers, body } = splitHeaders(raw);
  const text = textBody(headers, body);
  return {
    raw,
    envelope,
    headers,
    subject: headers.subject ?? "",
    to: addressesOf(headers.to ?? ""),
    text,
    receivedAt: new Date(),
  };
}

function splitHeaders(part: string): { headers: Record<string, string>; body: string } {
  const m = /\r?\n\r?\n/.exec(part);
  const head = m ? part.slice(0, m.index) : part;
  const body = m ? part.slice(m.index + m[0].length) : "";
  const headers: Record<string, string> = {};
  // Unfold continuation lines (RFC 5322 §2.2.3), then split name: value.
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeEncodedWords(line.slice(colon + 1).trim());
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { headers, body };
}

function headerParam(value: string, param: string): string | undefined {
  const m = new RegExp(`;\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

function textBody(headers: Record<string, string>, body: string): string {
  const type = (headers["content-type"] ?? "text/plain").toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = headerParam(headers["content-type"]!, "boundary");
    if (!boundary) return "";
    const parts = body.split(`--${boundary}`).slice(1);
    for (const p of parts) {
      if (p.startsWith("--")) break;
      const inner = splitHeaders(p.replace(/^\r?\n/, ""));
      const text = textBody(inner.headers, inner.body);
      if (text) return text;
    }
    return "";
  }
  if (!type.startsWith("text/plain")) return "";
  const encoding = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  let bytes: Buffer;
  if (encoding === "quoted-printable") bytes = decodeQuotedPrintable(body);
  else if (encoding === "base64") bytes = Buffer.from(body.replace(/\s+/g, ""), "base64");
  else bytes = Buffer.from(body, "utf8");
  return bytes.toString("utf8").replace(/\r\n/g, "\n");
}

export function decodeQuotedPrintable(s: string): Buffer {
  const joined = s.replace(/=\r?\n/g, ""); // soft line breaks
  const out: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i]!;
    const hex = joined.slice(i + 1, i + 3);
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, "utf8")) out.push(b);
    }
  }
  return Buffer.from(out);
}

/** RFC 2047 =?charset?Q|B?…?= words, as nodemailer writes non-ASCII subjects. */
function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, "$1")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(data, "base64").toString("utf8")
        : decodeQuotedPrintable(data.replace(/_/g, " ")).toString("utf8"),
    );
}

function addressesOf(value: string): string[] {
  const found = value.match(/[^\s<>,"]+@[^\s<>,"]+/g) ?? [];
  return found.map((a) => a.toLowerCase());
}
