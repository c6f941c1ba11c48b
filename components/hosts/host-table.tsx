"use client";
// One page of hosts (the server filtered, sorted and paged it) with row selection and
// bulk actions. Sorting and paging are links, so the URL always says what is shown.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { formatDateTime, formatMemory } from "../ui/format";
import { hrefWith } from "../ui/query";
import { callApi } from "../ui/use-api";
import { PowerBadge } from "../power/power-badge";
import { usePowerStates } from "../power/use-power";
import { HostStateBadge, type HostState } from "./host-state-badge";
import { CommissionButton } from "./commission-button";
import { isCommissionable } from "@/lib/hosts/state-machine";
import { Table, type Column } from "../ui/table";

export type HostTableRow = {
  id: string;
  name: string;
  state: HostState;
  poolName: string | null;
  /** Shown when the page knows the sites (admins). */
  siteName?: string | null;
  tags: string[];
  cpuCores: number | null;
  memoryMb: number | null;
  /** Its disks in a few words ("NVMe 1 TB, HDD 4 TB"), null when none is known. */
  disks?: string | null;
  macs: string[];
  hostnameHint: string | null;
  /** x86_64 or arm64 (hosts.arch); only arm64 is pointed out. */
  arch?: string;
  /** A Raspberry Pi's serial, when it boots over TFTP by serial. */
  piSerial?: string | null;
  firstSeenAt: string | null;
  holderEmail: string | null;
  leaseEndsAt: string | null;
  /** While its release wipe waits for someone to restart the machine (Kiln cannot). */
  releaseWait: string | null;
};

type PoolChoice = { id: string; name: string };

const BULK_ACTIONS = [
  { value: "move_to_pool", label: "Move to pool…", needsPool: true },
  { value: "maintenance", label: "Put in maintenance", needsPool: false },
  { value: "available", label: "Make available", needsPool: false },
  { value: "accept", label: "Accept (new hosts)", needsPool: false },
] as const;

type SortKey = "name" | "state" | "pool";

export function HostTable({ rows, pools, params, mode }: { rows: HostTableRow[]; pools: PoolChoice[]; params: Record<string, string>; mode: "all" | "new" }) {
  const router = useRouter();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [action, setAction] = useState<(typeof BULK_ACTIONS)[number]["value"]>(mode === "new" ? "accept" : "move_to_pool");
  const [poolId, setPoolId] = useState(pools[0]?.id ?? "");
  const [result, setResult] = useState<{ tone: "error" | "success"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const needsPool = BULK_ACTIONS.find((a) => a.value === action)!.needsPool;
  const power = usePowerStates(rows.map((r) => r.id));

  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const applyBulk = async () => {
    setBusy(true);
    setResult(null);
    try {
      const ids = rows.filter((r) => selected.has(r.id)).map((r) => r.id);
      const res = await callApi<{ updated: number }>("/api/v1/hosts/bulk", "POST", { hostIds: ids, action, ...(needsPool ? { poolId: poolId || null } : {}) });
      setResult({ tone: "success", text: `Done: ${res.updated} host${res.updated === 1 ? "" : "s"} updated.` });
      setSelected(new Set());
      router.refresh();
    } catch (e) {
      setResult({ tone: "error", text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const sortColumn = (key: SortKey, label: string): Column => {
    const current = (params.sort ?? "name") === key;
    const order = params.order === "desc" ? "desc" : "asc";
    const nextOrder = current && order === "asc" ? "desc" : "asc";
    return {
      label,
      sort: current ? (order === "asc" ? "ascending" : "descending") : undefined,
      content: (
        <Link href={hrefWith("/admin/hosts", params, { sort: key === "name" ? undefined : key, order: nextOrder === "asc" ? undefined : "desc" })} className="inline-flex items-center gap-1 hover:text-stone-900">
          {label}
          <span aria-hidden className={current ? "text-stone-700" : "text-stone-300"}>
            {current && order === "desc" ? "▼" : "▲"}
          </span>
        </Link>
      ),
    };
  };

  const columns: Column[] = [
    {
      label: "Select",
      className: "w-8",
      content: (
        <input
          type="checkbox"
          aria-label="Select all hosts on this page"
          checked={allSelected}
          onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))}
          className="h-4 w-4 accent-kiln-600"
        />
      ),
    },
    sortColumn("name", "Name"),
    sortColumn("state", "State"),
    sortColumn("pool", "Pool"),
    { label: "Site" },
    { label: "Hardware" },
    ...(mode === "new" ? [{ label: "First seen" }, { label: "Accept", align: "right" as const }] : [{ label: "Tags" }, { label: "Held by" }]),
  ];

  return (
    <div className="space-y-3">
      <div role="group" aria-label="Bulk actions" className="flex flex-wrap items-center gap-2 rounded-lg border border-stone-200 bg-white px-3 py-2 text-sm">
        <span className="min-w-24 text-stone-600" aria-live="polite">
          {selected.size} selected
        </span>
        <label htmlFor="bulk-action" className="sr-only">
          Bulk action
        </label>
        <select id="bulk-action" value={action} onChange={(e) => setAction(e.target.value as typeof action)} className="rounded-md border border-stone-300 bg-white px-2 py-1.5">
          {BULK_ACTIONS.map((a) => (
            <option key={a.value} value={a.value}>
              {a.label}
            </option>
          ))}
        </select>
        {needsPool ? (
          <>
            <label htmlFor="bulk-pool" className="sr-only">
              Target pool
            </label>
            <select id="bulk-pool" value={poolId} onChange={(e) => setPoolId(e.target.value)} className="rounded-md border border-stone-300 bg-white px-2 py-1.5">
              <option value="">No pool</option>
              {pools.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </>
        ) : null}
        <Button variant="secondary" className="py-1.5" disabled={busy || selected.size === 0} onClick={applyBulk}>
          Apply to selected
        </Button>
      </div>
      {result ? <Alert tone={result.tone}>{result.text}</Alert> : null}
      <Table columns={columns} padding="tight">
        {rows.map((h) => (
          <tr key={h.id} data-testid={`host-row-${h.name}`} className={selected.has(h.id) ? "bg-kiln-50/50" : undefined}>
            <td className="px-3 py-2">
              <input type="checkbox" aria-label={`Select ${h.name}`} checked={selected.has(h.id)} onChange={() => toggle(h.id)} className="h-4 w-4 accent-kiln-600" />
            </td>
            <td className="px-3 py-2">
              <Link href={`/hosts/${h.id}`} className="font-mono font-medium text-stone-900 hover:text-kiln-700 hover:underline">
                {h.name}
              </Link>
              <p className="font-mono text-xs text-stone-500">
                {h.macs[0] ?? ""}
                {h.macs.length > 1 ? ` +${h.macs.length - 1}` : ""}
                {h.hostnameHint ? ` · says “${h.hostnameHint}”` : ""}
                {h.piSerial ? <span data-testid="host-pi-serial">{`${h.macs.length ? " · " : ""}Pi serial ${h.piSerial}`}</span> : null}
                {h.arch === "arm64" ? " · arm64" : ""}
              </p>
            </td>
            <td className="px-3 py-2">
              <span className="flex flex-wrap items-center gap-1">
                <HostStateBadge state={h.state} short />
                <PowerBadge power={power.data?.get(h.id)} />
              </span>
              {h.releaseWait ? (
                <p className="mt-1 max-w-[16rem] text-xs text-amber-800" data-testid="release-wait">
                  {h.releaseWait}
                </p>
              ) : null}
            </td>
            <td className="whitespace-nowrap px-3 py-2 text-stone-700">{h.poolName ?? <span className="text-stone-400">—</span>}</td>
            <td className="whitespace-nowrap px-3 py-2 text-stone-700" data-testid="host-site">{h.siteName ?? <span className="text-stone-400">—</span>}</td>
            <td className="whitespace-nowrap px-3 py-2 text-stone-700" data-testid="host-hardware">
              {h.cpuCores ? `${h.cpuCores} cores` : "—"} · {formatMemory(h.memoryMb)}
              {h.disks ? <p className="text-xs text-stone-500">{h.disks}</p> : null}
              {isCommissionable(h.state) ? (
                <div className="mt-1">
                  <CommissionButton hostId={h.id} hostName={h.name} compact />
                </div>
              ) : null}
            </td>
            {mode === "new" ? (
              <>
                <td className="whitespace-nowrap px-3 py-2 text-stone-600">{formatDateTime(h.firstSeenAt)}</td>
                <td className="px-3 py-2">
                  <AcceptHost host={h} pools={pools} />
                </td>
              </>
            ) : (
              <>
                <td className="px-3 py-2">
                  <span className="flex max-w-[12rem] flex-wrap gap-1">
                    {h.tags.map((t) => (
                      <Link key={t} href={hrefWith("/admin/hosts", params, { tag: t })} className="whitespace-nowrap rounded-full bg-stone-100 px-2 py-0.5 text-xs text-stone-700 hover:bg-stone-200">
                        {t}
                      </Link>
                    ))}
                  </span>
                </td>
                <td className="px-3 py-2 text-stone-700">
                  {h.holderEmail ? (
                    <>
                      <p className="max-w-[14rem] truncate" title={h.holderEmail}>
                        {h.holderEmail}
                      </p>
                      <p className="whitespace-nowrap text-xs text-stone-500">until {formatDateTime(h.leaseEndsAt)}</p>
                    </>
                  ) : (
                    <span className="text-stone-400">—</span>
                  )}
                </td>
              </>
            )}
          </tr>
        ))}
        {rows.length === 0 ? (
          <tr>
            <td colSpan={8} className="px-3 py-10 text-center text-stone-500">
              {mode === "new" ? "No discovered hosts are waiting. Machines that boot from the network appear here." : "No hosts match."}
            </td>
          </tr>
        ) : null}
      </Table>
    </div>
  );
}

function AcceptHost({ host, pools }: { host: HostTableRow; pools: PoolChoice[] }) {
  const router = useRouter();
  const [poolId, setPoolId] = useState(pools[0]?.id ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `accept-pool-${host.id}`;
  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex items-center justify-end gap-2">
        <label htmlFor={id} className="sr-only">
          Pool for {host.name}
        </label>
        <select id={id} value={poolId} onChange={(e) => setPoolId(e.target.value)} className="rounded-md border border-stone-300 bg-white px-2 py-1.5 text-sm">
          <option value="">No pool</option>
          {pools.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        <Button
          className="py-1.5"
          disabled={busy}
          aria-label={`Accept ${host.name}`}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await callApi(`/api/v1/hosts/${host.id}/accept`, "POST", { poolId: poolId || null });
              router.refresh();
            } catch (e) {
              setError((e as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          Accept
        </Button>
      </div>
      {error ? (
        <p role="alert" className="max-w-xs text-right text-xs text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}
