// /pools/:id/calendar — a pool's week: who holds each host when; drag to book, admins to add maintenance
import Link from "next/link";
import { notFound } from "next/navigation";
import { CalendarFeeds } from "@/components/calendar/calendar-feeds";
import { PoolCalendar } from "@/components/calendar/pool-calendar";
import { Card } from "@/components/ui/card";
import { isAdminUser } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { getPool } from "@/lib/pools/pools";
import { getMyProjects } from "@/lib/projects/projects";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Pool calendar" };
export const dynamic = "force-dynamic";

export default async function PoolCalendarPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ week?: string | string[] }> }) {
  const { id } = await params;
  const { week } = await searchParams;
  const { user } = await requirePageUser(`/pools/${id}/calendar`);
  if (!uuidSchema.safeParse(id).success) notFound();
  const db = getAppDb();
  const pool = await getPool(db, id).catch((e) => {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  });
  const projects = await getMyProjects(db, user.id);
  return (
    <div className="mx-auto max-w-7xl space-y-6 px-4 py-8">
      <div>
        <p className="text-sm text-stone-500">
          <Link href="/" className="hover:underline">
            Dashboard
          </Link>{" "}
          / Pools
        </p>
        <h1 className="text-2xl font-semibold">Calendar of {pool.name}</h1>
        <p className="mt-1 text-sm text-stone-600">
          {pool.hostCount} host{pool.hostCount === 1 ? "" : "s"}. Everyone sees every booking by its project; only yours show as yours.
        </p>
      </div>
      <PoolCalendar initialWeek={typeof week === "string" ? week : undefined} pool={{ id: pool.id, name: pool.name }} isAdmin={isAdminUser(user)} projects={projects.map((p) => ({ projectId: p.projectId, name: p.name }))} />
      <Card title="Calendar feeds" description="Follow this pool, or your own bookings, in any calendar application (ICS).">
        <CalendarFeeds pool={{ id: pool.id, name: pool.name }} />
      </Card>
    </div>
  );
}
