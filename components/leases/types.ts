// What the lease components are handed by their pages and read back from the API.
import type { LeaseView } from "@/lib/leases/leases";

export type { LeaseView };

export type LeasePage = { data: LeaseView[]; pagination: { page: number; perPage: number; total: number } };

export type PoolOption = {
  id: string;
  name: string;
  description: string;
  hostCount: number;
  availableCount: number;
  defaultLeaseHours: number;
  maxLeaseHours: number;
};

export type ProjectOption = { projectId: string; name: string; role: "member" | "leader" };

export function heldHosts(lease: LeaseView) {
  return lease.hosts.filter((h) => !h.releasedAt);
}
