"use client";
// A pool's week: hosts as rows, the week's hours as columns, bookings as coloured blocks. Drag
// across a row (or down several rows) to select free hours, then book them, or, for an admin
// in Maintenance mode, take them out of service. Dragging is one way in: "Book a slot" opens the
// same form with the times typed. Whether the slot is free is the server's to say: its refusal
// ("the time is reserved by project X until …") is shown as it comes.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type PointerEvent } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { toast } from "@/components/ui/toast";
import { callApi } from "@/components/ui/use-api";
import { BookingForm, MaintenanceForm } from "./slot-forms";
import type { CalendarHost, Draft } from "./slot-types";
import { addWeeks, formatRange, HOURS_PER_WEEK, parseWeekParam, placeInWeek, slotAt, slotStart, weekParam, weekStartOf } from "./week";

export type CalendarItem = {
  kind: "lease" | "reservation" | "maintenance";
  id: string;
  hostId: string | null;
  startsAt: string;
  endsAt: string;
  projectName: string | null;
  mine: boolean;
  title?: string | null;
  state?: string | null;
};
type Timeline = { pool: { id: string; name: string }; hosts: CalendarHost[]; items: CalendarItem[] };

type Selection = { fromRow: number; toRow: number; fromSlot: number; toSlot: number };

const KIND_STYLE: Record<CalendarItem["kind"], string> = {
  lease: "bg-sky-500/80 border-sky-700",
  reservation: "bg-violet-500/80 border-violet-700",
  maintenance: "bg-[repeating-linear-gradient(45deg,#a8a29e_0,#a8a29e_4px,#d6d3d1_4px,#d6d3d1_8px)] border-stone-500",
};

function describeItem(item: CalendarItem, hostName: string): string {
  const when = formatRange(new Date(item.startsAt), new Date(item.endsAt));
  if (item.kind === "maintenance") return `Maintenance of ${item.hostId ? hostName : "the whole pool"}, ${when}${item.title ? `: ${item.title}` : ""}`;
  const who = item.mine ? "yours" : `project ${item.projectName ?? "unknown"}`;
  return `${item.kind === "lease" ? "Lease" : "Reservation"} of ${hostName} (${who}), ${when}${item.title ? `: ${item.title}` : ""}`;
}

type CalendarProps = { pool: { id: string; name: string }; isAdmin: boolean; projects: { projectId: string; name: string }[] };

/**
 * The week is the browser's (its time zone, its today), so none of it is rendered on the server:
 * a server in UTC would label other days than a browser in Tokyo. `?week=YYYY-MM-DD` keeps the
 * week shown across a reload or a shared link.
 */
export function PoolCalendar({ initialWeek, ...props }: CalendarProps & { initialWeek?: string }) {
  const [weekStart, setWeekStart] = useState<Date | null>(null);
  useEffect(() => setWeekStart(parseWeekParam(initialWeek) ?? weekStartOf(new Date())), [initialWeek]);
  if (!weekStart) return <p className="text-sm text-stone-600">Loading…</p>;
  return (
    <WeekCalendar
      {...props}
      weekStart={weekStart}
      setWeekStart={(d) => {
        setWeekStart(d);
        window.history.replaceState(null, "", `?week=${weekParam(d)}`);
      }}
    />
  );
}

function WeekCalendar({ pool, isAdmin, projects, weekStart, setWeekStart }: CalendarProps & { weekStart: Date; setWeekStart: (d: Date) => void }) {
  const [mode, setMode] = useState<"book" | "maintenance">("book");
  const from = weekStart.toISOString();
  const to = addWeeks(weekStart, 1).toISOString();
  const queryKey = ["timeline", pool.id, from];
  const queryClient = useQueryClient();
  const timeline = useQuery({
    queryKey,
    queryFn: () => callApi<Timeline>(`/api/v1/pools/${pool.id}/timeline?${new URLSearchParams({ from, to })}`, "GET"),
  });
  const hosts = timeline.data?.hosts ?? [];
  const [selection, setSelection] = useState<Selection | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const dragging = useRef<{ row: number; slot: number } | null>(null);

  const itemsByHost = useMemo(() => {
    const map = new Map<string, CalendarItem[]>();
    for (const item of timeline.data?.items ?? []) {
      // A pool-wide maintenance window lies across every row.
      for (const h of item.hostId ? [item.hostId] : hosts.map((x) => x.id)) map.set(h, [...(map.get(h) ?? []), item]);
    }
    return map;
  }, [timeline.data, hosts]);

  function pointerSlot(e: PointerEvent<HTMLElement>): number {
    const rect = e.currentTarget.getBoundingClientRect();
    return slotAt(e.clientX - rect.left, rect.width);
  }

  function rowUnder(e: PointerEvent<HTMLElement>): number | null {
    const el = document.elementFromPoint(e.clientX, e.clientY)?.closest<HTMLElement>("[data-row]");
    return el ? Number(el.dataset.row) : null;
  }

  function onPointerDown(row: number, e: PointerEvent<HTMLDivElement>) {
    if (e.button !== 0) return;
    e.preventDefault();
    const slot = pointerSlot(e);
    dragging.current = { row, slot };
    setSelection({ fromRow: row, toRow: row, fromSlot: slot, toSlot: slot });
  }

  function onPointerMove(e: PointerEvent<HTMLDivElement>) {
    const start = dragging.current;
    if (!start) return;
    const row = rowUnder(e) ?? start.row;
    const slot = pointerSlot(e);
    setSelection({ fromRow: Math.min(start.row, row), toRow: Math.max(start.row, row), fromSlot: Math.min(start.slot, slot), toSlot: Math.max(start.slot, slot) });
  }

  function onPointerUp() {
    if (!dragging.current || !selection) return;
    dragging.current = null;
    setDraft({
      hostIds: hosts.slice(selection.fromRow, selection.toRow + 1).map((h) => h.id),
      startsAt: slotStart(weekStart, selection.fromSlot),
      endsAt: slotStart(weekStart, selection.toSlot + 1),
    });
  }

  function closeForm() {
    setDraft(null);
    setSelection(null);
  }

  async function onSaved(message: string) {
    closeForm();
    toast(message);
    await queryClient.invalidateQueries({ queryKey: ["timeline", pool.id] });
  }

  const days = Array.from({ length: 7 }, (_, i) => slotStart(weekStart, i * 24));
  const today = new Date();
  // What is past in the shown week is shaded (it cannot be booked), up to a line at now.
  const past = placeInWeek(weekStart, new Date(0), today);

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <div className="flex items-center gap-1" role="group" aria-label="Week">
          <Button variant="secondary" onClick={() => setWeekStart(addWeeks(weekStart, -1))}>
            ← Previous week
          </Button>
          <Button variant="secondary" onClick={() => setWeekStart(weekStartOf(new Date()))}>
            Today
          </Button>
          <Button variant="secondary" onClick={() => setWeekStart(addWeeks(weekStart, 1))}>
            Next week →
          </Button>
        </div>
        <p className="text-sm font-medium text-stone-800" aria-live="polite" data-testid="week-label">
          Week of {weekStart.toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" })}
        </p>
        <div className="ml-auto flex items-center gap-2">
          {isAdmin ? (
            <Button
              variant={mode === "maintenance" ? "primary" : "secondary"}
              aria-pressed={mode === "maintenance"}
              onClick={() => setMode(mode === "maintenance" ? "book" : "maintenance")}
            >
              Maintenance
            </Button>
          ) : null}
          <Button onClick={() => setDraft({ hostIds: [], startsAt: slotStart(weekStart, nextHourSlot(weekStart)), endsAt: slotStart(weekStart, nextHourSlot(weekStart) + 1) })}>
            {mode === "maintenance" ? "Add a maintenance window" : "Book a slot"}
          </Button>
        </div>
      </div>
      <p className="text-sm text-stone-600">
        {mode === "maintenance"
          ? "Maintenance mode: drag across a host's row (or the whole pool's rows) to take that time out of service."
          : "Drag across free hours of one or more hosts to book them, or use “Book a slot” to type the times."}{" "}
        Times are in your browser&apos;s time zone.
      </p>
      <Legend />

      {timeline.error ? <Alert tone="error">{(timeline.error as Error).message}</Alert> : null}

      <div className="overflow-x-auto rounded-lg border border-stone-200 bg-white">
        {/* The drag ends wherever the button is let go, even off the rows. */}
        <div className="min-w-[60rem]" onPointerUp={onPointerUp} onPointerLeave={onPointerUp}>
          <div className="flex border-b border-stone-200 text-xs text-stone-600">
            <div className="w-40 shrink-0 px-2 py-1 font-medium">Host</div>
            <div className="grid flex-1 grid-cols-7">
              {days.map((d) => (
                <div key={d.toISOString()} className={`border-l border-stone-200 px-1 py-1 ${d.toDateString() === today.toDateString() ? "bg-kiln-50 font-semibold text-kiln-800" : ""}`}>
                  {d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" })}
                </div>
              ))}
            </div>
          </div>
          {timeline.isPending ? <p className="p-4 text-sm text-stone-600">Loading…</p> : null}
          {!timeline.isPending && hosts.length === 0 ? <p className="p-4 text-sm text-stone-600">This pool has no hosts.</p> : null}
          {hosts.map((host, row) => {
            const selected = selection && row >= selection.fromRow && row <= selection.toRow ? selection : null;
            return (
              <div key={host.id} className="flex border-b border-stone-100 last:border-b-0">
                <div className="w-40 shrink-0 truncate px-2 py-2 text-sm font-medium text-stone-800" title={`${host.name} (${host.state})`}>
                  {host.name}
                  {/* A host out of service now cannot be promised to anyone: say so beside its name. */}
                  {host.state === "maintenance" || host.state === "broken" || host.state === "new" ? <span className="ml-1 text-xs font-normal text-red-700">({host.state})</span> : null}
                </div>
                <div
                  data-row={row}
                  data-testid={`row-${host.name}`}
                  aria-label={`Timeline of ${host.name}`}
                  className={`relative h-9 flex-1 touch-none select-none ${mode === "maintenance" ? "cursor-crosshair" : "cursor-cell"}`}
                  onPointerDown={(e) => onPointerDown(row, e)}
                  onPointerMove={onPointerMove}
                >
                  <div aria-hidden className="pointer-events-none absolute inset-0 grid grid-cols-7">
                    {days.map((d) => (
                      <div key={d.toISOString()} className="border-l border-stone-200 bg-[linear-gradient(to_right,transparent_calc(25%-1px),#f5f5f4_calc(25%-1px),#f5f5f4_25%,transparent_25%,transparent_calc(50%-1px),#f5f5f4_calc(50%-1px),#f5f5f4_50%,transparent_50%,transparent_calc(75%-1px),#f5f5f4_calc(75%-1px),#f5f5f4_75%,transparent_75%)]" />
                    ))}
                  </div>
                  {past ? (
                    <div aria-hidden className="pointer-events-none absolute top-0 bottom-0 left-0 border-r-2 border-red-500 bg-stone-200/50" style={{ width: `${past.width}%` }} />
                  ) : null}
                  {(itemsByHost.get(host.id) ?? []).map((item) => {
                    const place = placeInWeek(weekStart, new Date(item.startsAt), new Date(item.endsAt));
                    if (!place) return null;
                    const label = describeItem(item, host.name);
                    return (
                      <div
                        key={`${item.kind}-${item.id}`}
                        role="img"
                        aria-label={label}
                        title={label}
                        data-kind={item.kind}
                        className={`absolute top-1 bottom-1 overflow-hidden rounded border text-[10px] leading-6 text-white ${KIND_STYLE[item.kind]} ${item.mine ? "ring-2 ring-kiln-500" : ""}`}
                        style={{ left: `${place.left}%`, width: `${place.width}%` }}
                      >
                        <span className="px-1">{item.kind === "maintenance" ? "" : item.mine ? "You" : item.projectName}</span>
                      </div>
                    );
                  })}
                  {selected ? (
                    <div
                      aria-hidden
                      className={`pointer-events-none absolute top-0 bottom-0 border-2 ${mode === "maintenance" ? "border-stone-700 bg-stone-400/40" : "border-kiln-600 bg-kiln-400/30"}`}
                      style={{ left: `${(selected.fromSlot / HOURS_PER_WEEK) * 100}%`, width: `${((selected.toSlot - selected.fromSlot + 1) / HOURS_PER_WEEK) * 100}%` }}
                    />
                  ) : null}
                </div>
              </div>
            );
          })}
        </div>
      </div>

      <Dialog open={draft !== null && mode === "book"} onClose={closeForm} size="lg" title={`Book hosts of ${pool.name}`} description="Kiln holds them for you from the start to the end; at the start they become your lease.">
        {draft ? <BookingForm pool={pool} hosts={hosts} draft={draft} projects={projects} onCancel={closeForm} onSaved={onSaved} /> : null}
      </Dialog>
      <Dialog open={draft !== null && mode === "maintenance"} onClose={closeForm} title={`Maintenance of ${pool.name}`} description="No lease or reservation may overlap a maintenance window.">
        {draft ? <MaintenanceForm pool={pool} hosts={hosts} draft={draft} onCancel={closeForm} onSaved={onSaved} /> : null}
      </Dialog>
    </div>
  );
}

/** The next whole hour from now, as a slot of the shown week (Monday 09:00 of another week). */
function nextHourSlot(weekStart: Date): number {
  const hours = Math.ceil((Date.now() - weekStart.getTime()) / 3600_000);
  return hours >= 0 && hours < HOURS_PER_WEEK ? hours : 9;
}

function Legend() {
  const entries: [string, string][] = [
    ["Lease", KIND_STYLE.lease],
    ["Reservation", KIND_STYLE.reservation],
    ["Maintenance", KIND_STYLE.maintenance],
  ];
  return (
    <ul className="flex flex-wrap gap-4 text-xs text-stone-600" aria-label="Legend">
      {entries.map(([label, style]) => (
        <li key={label} className="flex items-center gap-1">
          <span aria-hidden className={`inline-block h-3 w-5 rounded border ${style}`} />
          {label}
        </li>
      ))}
      <li className="flex items-center gap-1">
        <span aria-hidden className="inline-block h-3 w-5 rounded border border-stone-300 ring-2 ring-kiln-500" />
        Yours
      </li>
    </ul>
  );
}
