"use client";
// ICS feed addresses: one for the person's own bookings and one per pool. The address carries
// its secret, so it is shown once, when made; making it again replaces it (the old one stops).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { CopyButton } from "@/components/images/copy-button";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { callApi, ApiError } from "@/components/ui/use-api";

type Feed = { id: string; poolId: string | null; poolName: string | null; createdAt: string; lastUsedAt: string | null };

export function CalendarFeeds({ pool }: { pool?: { id: string; name: string } }) {
  const queryClient = useQueryClient();
  const feeds = useQuery({ queryKey: ["calendar-feeds"], queryFn: () => callApi<{ data: Feed[] }>("/api/v1/calendar-feeds", "GET") });
  const [shown, setShown] = useState<{ label: string; url: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function make(poolId: string | null, label: string) {
    setError(null);
    try {
      const feed = await callApi<{ url: string }>("/api/v1/calendar-feeds", "POST", poolId ? { poolId } : {});
      setShown({ label, url: feed.url });
      await queryClient.invalidateQueries({ queryKey: ["calendar-feeds"] });
    } catch (e) {
      setError(e instanceof ApiError ? e.failure.message : String(e));
    }
  }

  async function revoke(id: string) {
    setError(null);
    try {
      await callApi(`/api/v1/calendar-feeds/${id}`, "DELETE");
      setShown(null);
      await queryClient.invalidateQueries({ queryKey: ["calendar-feeds"] });
    } catch (e) {
      setError(e instanceof ApiError ? e.failure.message : String(e));
    }
  }

  const list = feeds.data?.data ?? [];
  const has = (poolId: string | null) => list.some((f) => f.poolId === poolId);
  return (
    <div className="space-y-3 text-sm">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <div className="flex flex-wrap gap-2">
        {pool ? (
          <Button variant="secondary" onClick={() => make(pool.id, `pool ${pool.name}`)}>
            {has(pool.id) ? `New feed address for ${pool.name}` : `Feed of ${pool.name}`}
          </Button>
        ) : null}
        <Button variant="secondary" onClick={() => make(null, "your bookings")}>
          {has(null) ? "New feed address for my bookings" : "Feed of my bookings"}
        </Button>
      </div>
      {shown ? (
        <div className="space-y-1 rounded-md border border-green-200 bg-green-50 p-3" role="status">
          <p className="text-green-900">Subscribe to this address in your calendar for {shown.label}. It is shown only now; anyone with it can read the feed.</p>
          <div className="flex items-center gap-2">
            <input readOnly aria-label="Feed address" value={shown.url} className="w-full rounded border border-stone-300 bg-white px-2 py-1 font-mono text-xs" onFocus={(e) => e.target.select()} />
            <CopyButton text={shown.url} />
          </div>
        </div>
      ) : null}
      {list.length ? (
        <ul className="divide-y divide-stone-100 rounded-md border border-stone-200">
          {list.map((f) => {
            const name = f.poolId ? `Pool ${f.poolName ?? "(deleted)"}` : "My bookings";
            return (
              <li key={f.id} className="flex items-center justify-between gap-2 px-3 py-2">
                <span>
                  <span className="font-medium text-stone-800">{name}</span>
                  <span className="text-xs text-stone-500">
                    {" "}
                    · made {new Date(f.createdAt).toLocaleDateString()} · {f.lastUsedAt ? `last read ${new Date(f.lastUsedAt).toLocaleString()}` : "not read yet"}
                  </span>
                </span>
                <Button variant="quietDanger" aria-label={`Revoke the feed of ${name}`} onClick={() => revoke(f.id)}>
                  Revoke
                </Button>
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}
