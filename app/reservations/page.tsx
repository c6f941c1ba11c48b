// /reservations — my reservations (upcoming and running first), each with cancel, and a plain form to reserve hosts ahead
import Link from "next/link";
import { CancelReservation } from "@/components/reservations/cancel-reservation";
import { ReserveForm } from "@/components/reservations/reserve-form";
import { Badge, type Tone } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { formatDateTime } from "@/components/ui/format";
import { Table } from "@/components/ui/table";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listPools } from "@/lib/pools/pools";
import { getMyProjects } from "@/lib/projects/projects";
import { listReservations } from "@/lib/reservations/reservations";

export const metadata = { title: "Reservations" };
export const dynamic = "force-dynamic";

const RESERVATION_TONE: Record<string, Tone> = { scheduled: "sky", preparing: "indigo", active: "green", ended: "stone", cancelled: "amber", failed: "red" };

export default async function ReservationsPage() {
  const { user } = await requirePageUser("/reservations");
  const db = getAppDb();
  const actor = actorOf(user, null);
  const [{ data }, pools, projects] = await Promise.all([listReservations(db, actor, { per_page: 100 }), listPools(db), getMyProjects(db, user.id)]);
  return (
    <div className="mx-auto max-w-6xl space-y-6 px-4 py-8">
      <div>
        <h1 className="text-2xl font-semibold">Reservations</h1>
        <p className="mt-1 text-sm text-stone-600">
          Hosts booked ahead. At the start (earlier, when something is to be deployed for it) a reservation becomes a lease on your dashboard. The{" "}
          <Link href="/calendar" className="text-kiln-700 hover:underline">
            calendar
          </Link>{" "}
          shows who holds what when.
        </p>
      </div>
      {data.length === 0 ? (
        <p className="text-sm text-stone-600" data-testid="no-reservations">
          You have no reservations.
        </p>
      ) : (
        <Table columns={[{ label: "Reservation" }, { label: "State" }, { label: "Pool" }, { label: "Hosts", align: "right" }, { label: "Start" }, { label: "End" }, { label: "Actions", srOnly: true }]}>
          {data.map((r) => {
            const current = r.hosts.filter((h) => !h.replacedAt).length;
            return (
              <tr key={r.id} data-testid={`reservation-${r.id}`}>
                <td className="px-4 py-2">
                  <Link href={`/reservations/${r.id}`} className="font-medium text-kiln-700 hover:underline">
                    {r.title || `Reservation of ${formatDateTime(r.startsAt)}`}
                  </Link>
                  <div className="text-xs text-stone-500">{r.projectName}</div>
                </td>
                <td className="px-4 py-2">
                  <Badge tone={RESERVATION_TONE[r.state]}>{r.state}</Badge>
                </td>
                <td className="px-4 py-2">{r.poolName ?? "—"}</td>
                <td className="px-4 py-2 text-right">
                  {current < r.count && r.state === "scheduled" ? <span className="text-amber-700">{`${current} of ${r.count}`}</span> : r.count}
                </td>
                <td className="px-4 py-2 whitespace-nowrap">{formatDateTime(r.startsAt)}</td>
                <td className="px-4 py-2 whitespace-nowrap">{formatDateTime(r.endsAt)}</td>
                <td className="px-4 py-2 text-right">{["scheduled", "preparing", "active"].includes(r.state) ? <CancelReservation id={r.id} started={r.state !== "scheduled"} /> : null}</td>
              </tr>
            );
          })}
        </Table>
      )}
      <Card title="Reserve hosts" description="For a known time. Kiln chooses the hosts now, so the reservation is a promise; if one fails before the start another is chosen.">
        <ReserveForm pools={pools.map((p) => ({ id: p.id, name: p.name }))} projects={projects.map((p) => ({ id: p.projectId, name: p.name }))} />
      </Card>
    </div>
  );
}
