// Mail goes through SMTP when SMTP_URL is set. Either way it is recorded in the
// outbox table; with no SMTP that record (and the log line) is the delivery.
// nodemailer is loaded at the first mail: the boot server and the worker reach this module but
// rarely send, and every package loaded at start is memory held by every process (bench/README.md).
import type { Transporter } from "nodemailer";
import { insertOutboxMail } from "@/db/queries/outbox";
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { getLogger } from "../log";

export type Mail = { to: string; subject: string; text: string };

let transport: { url: string; t: Transporter } | undefined;

async function getTransport(url: string): Promise<Transporter> {
  if (transport?.url !== url) {
    const { default: nodemailer } = await import("nodemailer");
    transport = {
      url,
      t: nodemailer.createTransport(url, {
        // A dead mail server must not hang a registration for minutes.
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      }),
    };
  }
  return transport.t;
}

export function isSmtpConfigured(): boolean {
  return Boolean(getEnv().SMTP_URL);
}

/**
 * Sends (or logs) a mail. Throws AppError("unavailable") when SMTP is configured but fails,
 * so callers inside a transaction roll back whatever the mail was about.
 */
export async function sendMail(db: DbOrTx, mail: Mail): Promise<void> {
  const env = getEnv();
  const log = getLogger("mail");
  if (!env.SMTP_URL) {
    log.info({ to: mail.to, subject: mail.subject, body: mail.text }, "mail (no SMTP configured; see the Outbox page)");
    await insertOutboxMail(db, { ...mail, status: "logged" });
    return;
  }
  try {
    await (await getTransport(env.SMTP_URL)).sendMail({ from: env.MAIL_FROM, to: mail.to, subject: mail.subject, text: mail.text });
  } catch (e) {
    log.error({ to: mail.to, subject: mail.subject, err: (e as Error).message }, "SMTP delivery failed");
    throw new AppError(
      "unavailable",
      "We could not send the email because the mail server is not answering. Nothing was saved; please try again later.",
    );
  }
  log.info({ to: mail.to, subject: mail.subject }, "mail sent");
  await insertOutboxMail(db, { ...mail, status: "sent" });
}
