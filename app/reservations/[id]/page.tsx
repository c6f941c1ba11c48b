// /reservations/[id] — one reservation: its hosts (and those replaced, with why), times, the "ready at the start" plan and afterwards whether it was met, its lease, its history
import Link from "next/link";
import { notFound } from "next/navigation";
import { CancelReservation } from "@/components/reservations/cancel-reservation";
import { Badge, type Tone } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { DetailRow } from "@/components/ui/detail-row";
import { formatDateTime } from "@/components/ui/format";
import { Table } from "@/components/ui/table";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { describeReadyPlan } from "@/lib/reservations/plan-words";
import { getReservation } from "@/lib/reservations/reservations";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Reservation" };
export const dynamic = "force-dynamic";

const TONE: Record<string, Tone> = { scheduled: "sky", preparing: "indigo", active: "green", ended: "stone", cancelled: "amber", failed: "red" };

export default async function ReservationPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!uuidSchema.safeParse(id).success) notFound();
  const { user } = await requirePageUser(`/reservations/${id}`);
  let r;
  try {
    r = await getReservation(getAppDb(), actorOf(user, null), id);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
  const current = r.hosts.filter((h) => !h.replacedAt);
  const replaced = r.hosts.filter((h) => h.replacedAt);
  const live = ["scheduled", "preparing", "active"].includes(r.state);
  const outcome = r.plan?.outcome;
  return (
    <div className="mx-auto max-w-5xl space-y-6 px-4 py-8">
      <div>
        <p className="text-sm text-stone-500">
          <Link href="/reservations" className="hover:underline">
            Reservations
          </Link>
        </p>
        <div className="mt-1 flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold">{r.title || `Reservation of ${formatDateTime(r.startsAt)}`}</h1>
          <Badge tone={TONE[r.state]} testId="reservation-state">
            {r.state}
          </Badge>
          {live ? <div className="ml-auto"><CancelReservation id={r.id} started={r.state !== "scheduled"} label="Cancel reservation…" /></div> : null}
        </div>
        <dl className="mt-3">
          <DetailRow label="Project">{r.projectName}</DetailRow>
          <DetailRow label="Holder">{r.userEmail}</DetailRow>
          <DetailRow label="Pool">{r.poolName ?? "—"}</DetailRow>
          <DetailRow label="Start">{formatDateTime(r.startsAt)}</DetailRow>
          <DetailRow label="End">{formatDateTime(r.endsAt)}</DetailRow>
          {r.prepareFrom !== r.startsAt ? <DetailRow label="Hosts taken from">{`${formatDateTime(r.prepareFrom)} (to deploy before the start)`}</DetailRow> : null}
          <DetailRow label="Hosts">{current.length < r.count && r.state === "scheduled" ? `${current.length} of ${r.count} (short: no replacement was free; Kiln keeps looking)` : String(r.count)}</DetailRow>
          {r.leaseId ? (
            <DetailRow label="Lease">
              <Link href="/" className="text-kiln-700 hover:underline" data-testid="reservation-lease">
                {r.state === "ended" || r.state === "cancelled" ? "its lease (ended)" : "its lease, on your dashboard"}
              </Link>{" "}
              <span className="font-mono text-xs text-stone-500">{r.leaseId}</span>
            </DetailRow>
          ) : null}
          {r.failureReason ? <DetailRow label="Why it failed">{r.failureReason}</DetailRow> : null}
        </dl>
      </div>

      <Card title="Hosts">
        <Table columns={[{ label: "Host" }, { label: "State now" }, { label: "Chosen" }, { label: "Replaced" }]}>
          {[...current, ...replaced].map((h) => (
            <tr key={h.id}>
              <td className="px-4 py-2 font-mono">{h.name}</td>
              <td className="px-4 py-2">{h.state}</td>
              <td className="px-4 py-2 whitespace-nowrap">{formatDateTime(h.chosenAt)}</td>
              <td className="px-4 py-2">{h.replacedAt ? `${formatDateTime(h.replacedAt)}: ${h.replacedReason ?? ""}` : "—"}</td>
            </tr>
          ))}
        </Table>
      </Card>

      <Card title="Ready at the start">
        {r.deploySummary && r.plan ? (
          <dl>
            <DetailRow label="Deploys">{r.deploySummary}</DetailRow>
            <DetailRow label="Plan">
              <span data-testid="ready-plan">{describeReadyPlan({ startsAt: r.startsAt, prepareFrom: r.prepareFrom, plan: r.plan }, formatDateTime)}</span>
            </DetailRow>
            <DetailRow label="Deploy">
              {r.groupId ? (
                <span className="space-y-1">
                  <Link href={`/deployments/groups/${r.groupId}`} className="text-kiln-700 hover:underline" data-testid="ready-progress">
                    Progress of the deploy
                  </Link>
                  {r.readyRuns.length ? (
                    <ul className="mt-1 list-disc pl-5 text-stone-700" data-testid="ready-runs">
                      {r.readyRuns.map((h) => (
                        <li key={h.hostId}>
                          <span className="font-mono">{h.hostName}</span>: {h.state}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                </span>
              ) : r.state === "scheduled" ? (
                `Starts when the hosts are taken, at ${formatDateTime(r.prepareFrom)}.`
              ) : (
                "No deploy was started."
              )}
            </DetailRow>
            <DetailRow label="Met">
              {outcome ? (
                <span data-testid="plan-outcome">
                  {outcome.met ? "Yes: every host was ready at the start." : `No: ${outcome.hosts.filter((h) => h.met).length} of ${outcome.hosts.length} hosts were ready at the start.`}
                  {outcome.hosts.length ? (
                    <ul className="mt-1 list-disc pl-5 text-stone-700">
                      {outcome.hosts.map((h) => (
                        <li key={h.hostId}>{`${h.name}: ${h.met ? "ready" : "not ready"} (${h.state}${h.finishedAt ? `, finished ${formatDateTime(h.finishedAt)}` : ""})`}</li>
                      ))}
                    </ul>
                  ) : null}
                </span>
              ) : (
                "Known at the start."
              )}
            </DetailRow>
          </dl>
        ) : (
          <p className="text-sm text-stone-600">Nothing is deployed for this reservation: its hosts are handed over as they are at the start.</p>
        )}
      </Card>

      <Card title="History">
        <ol className="space-y-2 text-sm" data-testid="reservation-history">
          {r.history.map((h, i) => (
            <li key={i} className="flex gap-3">
              <span className="whitespace-nowrap text-stone-500">{formatDateTime(h.at)}</span>
              <span className="text-stone-900">{h.summary}</span>
              {h.actorEmail && h.actorEmail !== "system" ? <span className="text-stone-500">by {h.actorEmail}</span> : null}
            </li>
          ))}
        </ol>
      </Card>
    </div>
  );
}
