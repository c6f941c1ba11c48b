// /admin/outbox — every mail Kiln sent or, without SMTP, only logged
import { Alert } from "@/components/ui/alert";
import { getOutbox } from "@/lib/accounts/admin";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isSmtpConfigured } from "@/lib/mail/send";

export const metadata = { title: "Outbox" };
export const dynamic = "force-dynamic";

function linkify(text: string) {
  return text.split(/(https?:\/\/\S+)/g).map((part, i) =>
    /^https?:\/\//.test(part) ? (
      <a key={i} href={part} className="text-kiln-700 underline">
        {part}
      </a>
    ) : (
      part
    ),
  );
}

export default async function OutboxPage({ searchParams }: { searchParams: Promise<{ page?: string }> }) {
  await requirePageAdmin("/admin/outbox");
  const page = Math.max(1, Number((await searchParams).page) || 1);
  const { mails, total } = await getOutbox(getAppDb(), page);
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-2xl font-semibold">Outbox</h1>
        <p className="text-sm text-stone-600">{total} mails</p>
      </div>
      {isSmtpConfigured() ? null : (
        <Alert tone="info">
          No SMTP server is configured (SMTP_URL), so mails are not delivered: they are written to the server log and listed here. Forward
          verification links to people by hand, or configure SMTP.
        </Alert>
      )}
      <ul className="space-y-3">
        {mails.map((m) => (
          <li key={m.id} className="rounded-lg border border-stone-200 bg-white p-4">
            <div className="flex flex-wrap items-baseline justify-between gap-2">
              <p className="font-medium">{m.subject}</p>
              <p className="text-xs text-stone-500">
                to {m.to} · {m.createdAt.toISOString().slice(0, 16).replace("T", " ")} · {m.status}
              </p>
            </div>
            <pre className="mt-2 whitespace-pre-wrap font-sans text-sm text-stone-700">{linkify(m.text)}</pre>
          </li>
        ))}
        {mails.length === 0 ? <li className="text-sm text-stone-500">No mail yet.</li> : null}
      </ul>
    </div>
  );
}
