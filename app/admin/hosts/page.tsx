// /admin/hosts — every host, filtered, sorted and paged by the server (50 a page), with bulk actions
import { AutoRefresh } from "@/components/ui/auto-refresh";
import Link from "next/link";
import { HostTable, type HostTableRow } from "@/components/hosts/host-table";
import { describeDisks, hostListQueryOf } from "@/components/hosts/hardware-filter";
import { Alert } from "@/components/ui/alert";
import { FILTER_CONTROL, FilterBar, FilterField } from "@/components/ui/filters";
import { Pagination } from "@/components/ui/pagination";
import { cleanParams, hrefWith, type SearchParams } from "@/components/ui/query";
import { actorOf } from "@/lib/access/actor";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { listHosts } from "@/lib/hosts/hosts";
import { HOST_STATES } from "@/lib/hosts/state-machine";
import { listPools } from "@/lib/pools/pools";
import { listSites } from "@/lib/sites/sites";

export const metadata = { title: "Hosts" };
export const dynamic = "force-dynamic";

const PER_PAGE = 50;

export default async function AdminHostsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const { user } = await requirePageAdmin("/admin/hosts");
  const params = cleanParams(await searchParams);
  delete params.per_page;
  const db = getAppDb();
  const actor = actorOf(user, null);
  const [pools, newHosts, sites] = await Promise.all([listPools(db), listHosts(db, actor, { state: "new", per_page: 1 }), listSites(db, actor)]);
  const siteNames = new Map(sites.map((s) => [s.id, s.name]));
  let result;
  try {
    result = await listHosts(db, actor, { ...hostListQueryOf(params), per_page: PER_PAGE });
  } catch (e) {
    if (!isAppError(e)) throw e;
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Hosts</h1>
        <Alert tone="error">{e.message}</Alert>
        <Link href="/admin/hosts" className="text-sm text-kiln-700 hover:underline">
          Clear the filters
        </Link>
      </div>
    );
  }
  const mode = params.state === "new" ? "new" : "all";
  const rows: HostTableRow[] = result.data.map((h) => ({
    id: h.id,
    name: h.name,
    state: h.state,
    poolName: h.poolName ?? null,
    siteName: siteNames.get(h.siteId) ?? null,
    tags: h.tags,
    cpuCores: h.cpuCores,
    memoryMb: h.memoryMb,
    disks: describeDisks(h.disks),
    macs: h.interfaces.map((i) => i.mac),
    hostnameHint: h.hostnameHint,
    arch: h.arch,
    piSerial: h.piSerial,
    firstSeenAt: h.firstSeenAt,
    holderEmail: h.lease?.holderEmail ?? null,
    leaseEndsAt: h.lease?.endsAt ?? null,
    releaseWait: h.releaseWait?.message ?? null,
  }));
  const poolChoices = pools.map((p) => ({ id: p.id, name: p.name }));
  const tab = (label: string, href: string, current: boolean) => (
    <Link
      href={href}
      aria-current={current ? "page" : undefined}
      className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${current ? "border-kiln-600 text-kiln-700" : "border-transparent text-stone-600 hover:text-stone-900"}`}
    >
      {label}
    </Link>
  );

  return (
    <div className="space-y-4">
      <AutoRefresh />
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Hosts</h1>
          <p className="text-sm text-stone-600">{result.pagination.total.toLocaleString("en")} in this view</p>
        </div>
        <div className="flex gap-2">
          <Link href="/admin/hosts/import" className="rounded-md bg-white px-3.5 py-2 text-sm font-semibold text-stone-800 shadow-sm ring-1 ring-stone-300 hover:bg-stone-100">
            Import hosts
          </Link>
          <Link href="/admin/hosts/new" className="rounded-md bg-kiln-600 px-3.5 py-2 text-sm font-semibold text-white shadow-sm hover:bg-kiln-700">
            Add host
          </Link>
        </div>
      </div>

      <nav aria-label="Host views" className="flex gap-2 border-b border-stone-200">
        {tab("All hosts", hrefWith("/admin/hosts", {}, {}), mode === "all")}
        {tab(`New hosts (${newHosts.pagination.total})`, hrefWith("/admin/hosts", {}, { state: "new" }), mode === "new")}
      </nav>

      <FilterBar action="/admin/hosts" canClear={Object.keys(params).some((k) => k !== "page")}>
        <FilterField id="host-q" label="Search">
          <input id="host-q" name="q" defaultValue={params.q ?? ""} placeholder="Name or MAC" className={`${FILTER_CONTROL} w-56`} />
        </FilterField>
        <FilterField id="host-state" label="State">
          <select id="host-state" name="state" defaultValue={params.state ?? ""} className={FILTER_CONTROL}>
            <option value="">Any state</option>
            {HOST_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </FilterField>
        <FilterField id="host-pool" label="Pool">
          <select id="host-pool" name="pool" defaultValue={params.pool ?? ""} className={FILTER_CONTROL}>
            <option value="">Any pool</option>
            <option value="none">No pool</option>
            {pools.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </FilterField>
        {sites.length > 1 || params.site ? (
          <FilterField id="host-site" label="Site">
            <select id="host-site" name="site" defaultValue={params.site ?? ""} className={FILTER_CONTROL}>
              <option value="">Any site</option>
              {sites.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </FilterField>
        ) : null}
        <FilterField id="host-tag" label="Tag">
          <input id="host-tag" name="tag" defaultValue={params.tag ?? ""} placeholder="gpu" className={`${FILTER_CONTROL} w-28`} />
        </FilterField>
        <FilterField id="host-cores" label="Cores ≥">
          <input id="host-cores" name="minCores" type="number" min={1} defaultValue={params.minCores ?? ""} className={`${FILTER_CONTROL} w-20`} />
        </FilterField>
        <FilterField id="host-memory" label="Memory ≥ (GB)">
          <input id="host-memory" name="minMemoryGb" type="number" min={1} step="any" defaultValue={params.minMemoryGb ?? ""} className={`${FILTER_CONTROL} w-24`} />
        </FilterField>
        <FilterField id="host-disk" label="A disk ≥ (GB)">
          <input id="host-disk" name="minDiskGb" type="number" min={1} defaultValue={params.minDiskGb ?? ""} className={`${FILTER_CONTROL} w-24`} />
        </FilterField>
        <FilterField id="host-disk-type" label="Disk type">
          <select id="host-disk-type" name="diskType" defaultValue={params.diskType ?? ""} className={FILTER_CONTROL}>
            <option value="">Any disk</option>
            <option value="ssd">SSD or NVMe</option>
            <option value="nvme">NVMe</option>
            <option value="hdd">HDD</option>
          </select>
        </FilterField>
        <FilterField id="host-firmware" label="Firmware">
          <select id="host-firmware" name="firmware" defaultValue={params.firmware ?? ""} className={FILTER_CONTROL}>
            <option value="">Any firmware</option>
            <option value="uefi">UEFI</option>
            <option value="bios">BIOS</option>
          </select>
        </FilterField>
        <FilterField id="host-cpu" label="CPU model">
          <input id="host-cpu" name="cpuModel" defaultValue={params.cpuModel ?? ""} placeholder="EPYC" className={`${FILTER_CONTROL} w-28`} />
        </FilterField>
        <FilterField id="host-nic" label="Network ≥ (Gb/s)">
          <input id="host-nic" name="minNicSpeedGbps" type="number" min={0.1} step="any" defaultValue={params.minNicSpeedGbps ?? ""} className={`${FILTER_CONTROL} w-20`} />
        </FilterField>
        <FilterField id="host-sort" label="Sort by">
          <select id="host-sort" name="sort" defaultValue={params.sort ?? "name"} className={FILTER_CONTROL}>
            <option value="name">Name</option>
            <option value="state">State</option>
            <option value="pool">Pool</option>
            <option value="updated">Last updated</option>
          </select>
        </FilterField>
        {params.order ? <input type="hidden" name="order" value={params.order} /> : null}
      </FilterBar>

      <HostTable key={JSON.stringify(params)} rows={rows} pools={poolChoices} params={params} mode={mode} />
      <Pagination base="/admin/hosts" params={params} page={result.pagination.page} perPage={PER_PAGE} total={result.pagination.total} />
    </div>
  );
}
