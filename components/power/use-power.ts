"use client";
// The power state as a react-query: one key per host, so the header badge, the power card and
// lists on the same page agree, and an action refreshes them all.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { PowerView } from "@/lib/power/types";
import { callApi } from "../ui/use-api";

/** How often a visible badge re-reads the state the worker records (it polls the BMCs itself). */
export const POWER_REFRESH_MS = 10_000;

export const powerKey = (hostId: string) => ["power", hostId] as const;

export function useHostPower(hostId: string, initial?: PowerView | null) {
  return useQuery({
    queryKey: powerKey(hostId),
    queryFn: () => callApi<PowerView>(`/api/v1/hosts/${hostId}/power`, "GET"),
    initialData: initial ?? undefined,
    refetchInterval: POWER_REFRESH_MS,
  });
}

/** The states of a list's hosts in one request; a host missing from the answer has no badge. */
export function usePowerStates(hostIds: string[]) {
  const ids = [...new Set(hostIds)].sort();
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: ["power", "list", ids.join(",")],
    enabled: ids.length > 0,
    queryFn: async () => {
      const res = await callApi<{ data: PowerView[] }>(`/api/v1/hosts/power?ids=${ids.join(",")}`, "GET");
      // Seed each host's own key too, so opening its page shows the same state at once.
      for (const p of res.data) queryClient.setQueryData(powerKey(p.hostId), p);
      return new Map(res.data.map((p) => [p.hostId, p]));
    },
    refetchInterval: POWER_REFRESH_MS,
  });
}
