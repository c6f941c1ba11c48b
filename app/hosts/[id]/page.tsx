// /hosts/[id] — a host's facts, lease history and timeline; admins also manage it here
import Link from "next/link";
import type { ReactNode } from "react";
import { notFound } from "next/navigation";
import { HostAdminPanel } from "@/components/hosts/host-admin-panel";
import { HostAccessCard } from "@/components/hosts/host-access";
import { HostStateBadge } from "@/components/hosts/host-state-badge";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { formatBytes, formatDateTime, formatMemory } from "@/components/ui/format";
import { actorOf, isAdminUser } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { getHostDetail } from "@/lib/hosts/hosts";
import { isCommissionable } from "@/lib/hosts/state-machine";
import { listPools } from "@/lib/pools/pools";
import { listSites } from "@/lib/sites/sites";
import { ProvisioningPanel } from "@/components/deployments/provisioning-panel";
import { ConsolePanel } from "@/components/console/console-panel";
import { getConsoleAvailability } from "@/lib/console/console";
import { getHostFeedPosition, getLatestDeploymentView, getRestartLimit } from "@/lib/deployments/views";
import { getNextBoot } from "@/lib/deployments/next-boot";
import { NextBootNotice } from "@/components/hosts/next-boot-notice";
import { ReleaseWaitNotice } from "@/components/hosts/release-wait-notice";
import { listImages } from "@/lib/images/images";
import { getBootSettings, readHostVars } from "@/lib/boot/boot-settings";
import { listTemplates } from "@/lib/templates/templates";
import { uuidSchema } from "@/lib/validation/common";
import { LivePowerBadge, PowerControls } from "@/components/power/power-controls";
import { PowerSettings } from "@/components/power/power-settings";
import { getHostPowerView } from "@/lib/power/view";
import { CommissionButton } from "@/components/hosts/commission-button";
import { FactVersions, STRUCTURED_FACT_KEYS, StructuredFacts } from "@/components/hosts/host-facts";
import { listFactVersionViews, type HostFacts } from "@/lib/hosts/fact-versions";
import { listLeaseDisks } from "@/lib/extra-disks/extra-disks";
import { ExtraDisksPanel } from "@/components/extra-disks/extra-disks-panel";
import { Table } from "@/components/ui/table";

export const metadata = { title: "Host" };
export const dynamic = "force-dynamic";

async function loadHost(db: ReturnType<typeof getAppDb>, actor: ReturnType<typeof actorOf>, id: string) {
  try {
    return await getHostDetail(db, actor, id);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[8rem_1fr] gap-2 py-1.5 text-sm">
      <dt className="text-stone-500">{label}</dt>
      <dd className="min-w-0 text-stone-900">{children}</dd>
    </div>
  );
}

function factText(v: unknown): string {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
}

export default async function HostPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { user } = await requirePageUser(`/hosts/${id}`);
  if (!uuidSchema.safeParse(id).success) notFound();
  const db = getAppDb();
  const isAdmin = isAdminUser(user);
  const [{ host, leases, events }, pools, sites] = await Promise.all([
    loadHost(db, actorOf(user, null), id),
    isAdmin ? listPools(db) : Promise.resolve([]),
    isAdmin ? listSites(db, actorOf(user, null)) : Promise.resolve([]),
  ]);
  // Commissioning's facts have their own rows; anything else a report carried is shown as it is.
  const extraFacts = Object.entries(host.facts ?? {}).filter(([k]) => !STRUCTURED_FACT_KEYS.has(k));
  const actor = actorOf(user, null);
  // Boot settings belong to whoever holds the lease (admins may act for them).
  const holdsIt = leases.some((l) => !l.releasedAt && l.userId === user.id);
  const [bootSettings, templates] = host.lease && (isAdmin || holdsIt) ? await Promise.all([getBootSettings(db, actor, host.id), listTemplates(db, actor)]) : [null, []];
  // The admin panel's variables editor; the boot settings already carry them while the host is leased.
  const hostVars = isAdmin ? (bootSettings?.hostVars ?? (await readHostVars(db, actor, host.id))) : null;
  // Provisioning: the holder starts runs while holding the host; admins also watch wipes at release.
  const canSeeRuns = isAdmin || holdsIt;
  // The feed position is read before the run, so whatever happens in between arrives live.
  const feedPosition = canSeeRuns ? await getHostFeedPosition(db, actor, host.id) : 0;
  const [latestRun, images, nextBoot, cannotRestart] = canSeeRuns
    ? await Promise.all([getLatestDeploymentView(db, actor, host.id), host.lease ? listImages(db, actor, { per_page: 500 }) : Promise.resolve(null), getNextBoot(db, actor, host.id), getRestartLimit(db, actor, host.id)])
    : [null, null, null, null];
  const powerView = canSeeRuns ? await getHostPowerView(db, actor, host.id) : null;
  const consoleOffer = canSeeRuns ? await getConsoleAvailability(db, actor, host.id) : null;
  const factVersions = canSeeRuns ? await listFactVersionViews(db, actor, host.id) : null;
  // Extra disks belong to the lease: its holder (or an admin) manages them while the host is held.
  const extraDisks = host.lease && (isAdmin || holdsIt) ? await listLeaseDisks(db, actor, host.lease.id) : null;

  return (
    <div className="mx-auto max-w-6xl space-y-6 px-4 py-8">
      <div>
        <p className="text-sm text-stone-500">
          {isAdmin ? (
            <Link href="/admin/hosts" className="hover:underline">
              Hosts
            </Link>
          ) : (
            <Link href="/" className="hover:underline">
              My machines
            </Link>
          )}{" "}
          /
        </p>
        <div className="mt-1 flex flex-wrap items-center gap-3">
          <h1 className="font-mono text-2xl font-semibold">{host.name}</h1>
          <HostStateBadge state={host.state} />
          {powerView ? <LivePowerBadge hostId={host.id} initial={powerView} /> : null}
          {host.poolName ? <Badge>pool {host.poolName}</Badge> : <Badge>no pool</Badge>}
        </div>
        <p className="mt-1 text-sm text-stone-600">
          {host.state} since {formatDateTime(host.stateChangedAt)}
          {host.lease ? ` · leased until ${formatDateTime(host.lease.endsAt)}` : ""}
        </p>
        {host.releaseWait ? (
          <div className="mt-3">
            <ReleaseWaitNotice wait={host.releaseWait} />
          </div>
        ) : null}
        {nextBoot ? (
          <div className="mt-3">
            <NextBootNotice hostId={host.id} next={nextBoot} canAct={canSeeRuns} captureTargets={(images?.data ?? []).filter((i) => i.canEdit).map((i) => ({ id: i.id, name: i.name, latestVersion: i.latestVersion }))} />
          </div>
        ) : null}
      </div>

      <div className={isAdmin ? "grid gap-6 lg:grid-cols-[1fr_22rem]" : "space-y-6"}>
        <div className="min-w-0 space-y-6">
          <Card title="Access" description="Addresses Kiln learned for this machine, and how to log in.">
            <HostAccessCard addresses={host.addresses} access={host.access} />
          </Card>

          <Card title="Hardware">
            <dl className="divide-y divide-stone-100">
              <Fact label="CPU cores">{host.cpuCores ?? "—"}</Fact>
              <Fact label="Memory">{formatMemory(host.memoryMb)}</Fact>
              <Fact label="Disks">
                {host.disks.length === 0 ? (
                  "—"
                ) : (
                  <ul className="space-y-0.5">
                    {host.disks.map((d) => (
                      <li key={d.name}>
                        <span className="font-mono">{d.name}</span> {formatBytes(d.sizeBytes)}
                        {d.type ? <span className="text-stone-500"> · {d.type === "nvme" ? "NVMe" : d.type.toUpperCase()}</span> : null}
                        {d.model ? <span className="text-stone-500"> · {d.model}</span> : null}
                        {d.serial ? <span className="text-stone-500"> · {d.serial}</span> : null}
                      </li>
                    ))}
                  </ul>
                )}
              </Fact>
              <Fact label="Interfaces">
                <ul className="space-y-0.5">
                  {host.interfaces.map((i) => (
                    <li key={i.mac} className="flex flex-wrap items-center gap-2">
                      <span className="font-mono">{i.mac}</span>
                      {i.name ? <span className="text-stone-500">{i.name}</span> : null}
                      {i.isPxe ? <Badge tone="sky">PXE boot</Badge> : null}
                    </li>
                  ))}
                </ul>
              </Fact>
              <Fact label="Tags">
                {host.tags.length === 0 ? (
                  "—"
                ) : (
                  <span className="flex flex-wrap gap-1">
                    {host.tags.map((t) => (
                      <Badge key={t}>{t}</Badge>
                    ))}
                  </span>
                )}
              </Fact>
              <Fact label="Pool">{host.poolName ?? "none"}</Fact>
              {host.hostnameHint ? <Fact label="Reported name">{host.hostnameHint}</Fact> : null}
              <Fact label="First seen">{formatDateTime(host.firstSeenAt)}</Fact>
              <Fact label="Last seen">{formatDateTime(host.lastSeenAt)}</Fact>
              <StructuredFacts facts={host.facts as HostFacts} />
              {extraFacts.map(([k, v]) => (
                <Fact key={k} label={k}>
                  <span className="break-words">{factText(v)}</span>
                </Fact>
              ))}
            </dl>
          </Card>

          {factVersions ? (
            <Card title="Hardware history" description="Each commissioning report (and each deploy's inventory that changed something), with what changed since the one before.">
              {isAdmin && isCommissionable(host.state) ? (
                <div className="mb-4">
                  <CommissionButton hostId={host.id} hostName={host.name} />
                </div>
              ) : null}
              <FactVersions versions={factVersions} />
            </Card>
          ) : null}

          {canSeeRuns ? (
            <Card title="Provisioning" description="Reinstall the machine (choose, review, confirm) and follow every step as it happens.">
              <ProvisioningPanel
                hostId={host.id}
                hostName={host.name}
                initial={latestRun}
                lastEventId={feedPosition}
                canStart={Boolean(host.lease)}
                // The holder's own images first (the dialog preselects the first), then the shared ones.
                images={(images?.data ?? []).filter((i) => i.latestVersion !== null).sort((a, b) => Number(b.canEdit) - Number(a.canEdit)).map((i) => ({ id: i.id, name: i.name, latestVersion: i.latestVersion }))}
                captureTargets={(images?.data ?? []).filter((i) => i.canEdit).map((i) => ({ id: i.id, name: i.name, latestVersion: i.latestVersion }))}
                templates={templates.map((t) => ({ id: t.id, name: t.name, kind: t.kind, format: t.format, variables: t.variables, postInstall: t.postInstall }))}
                defaults={{
                  systemTemplateId: bootSettings?.systemTemplateId ?? null,
                  unattendedTemplateId: bootSettings?.unattendedTemplateId ?? null,
                  vars: bootSettings?.vars ?? {},
                  preferredMac: bootSettings?.preferredMac ?? null,
                  hostVars: bootSettings?.hostVars ?? {},
                }}
                macs={host.interfaces.map((i) => i.mac)}
                cannotRestart={cannotRestart}
              />
            </Card>
          ) : null}

          {extraDisks && host.lease ? (
            <Card title="Extra disks" description="Empty disks for this machine, kept on Kiln and exported to it alone over the network (NBD); deleted when the host leaves your lease.">
              <ExtraDisksPanel leaseId={host.lease.id} hostId={host.id} disks={extraDisks.data.filter((d) => d.hostId === host.id)} limits={extraDisks.limits} />
            </Card>
          ) : null}

          {consoleOffer ? (
            <Card title="Console" description="The machine's serial console, live: its boot output, and your keystrokes go to it.">
              <ConsolePanel hostId={host.id} available={consoleOffer.available} kind={consoleOffer.kind} unavailableReason={consoleOffer.reason} />
            </Card>
          ) : null}

          {host.notes ? (
            <Card title="Notes">
              <p className="whitespace-pre-wrap text-sm text-stone-800">{host.notes}</p>
            </Card>
          ) : null}

          {powerView ? (
            <Card title="Power" description="The machine's power as Kiln last read it, and the buttons to switch it.">
              <PowerControls hostId={host.id} hostName={host.name} initial={powerView} />
            </Card>
          ) : null}

          {host.power ? (
            <Card title="Power settings" description="How Kiln switches this machine. Passwords are stored sealed and never shown; only whether one is set.">
              <PowerSettings hostId={host.id} power={host.power} />
            </Card>
          ) : null}

          <Card title="Lease history" description={isAdmin ? undefined : "Your leases of this host."}>
            {leases.length === 0 ? (
              <p className="text-sm text-stone-500">Never leased.</p>
            ) : (
              <Table columns={[{ label: "Holder" }, { label: "From" }, { label: "Until" }, { label: "Lease" }]} frame="bare" padding="wide" className="-mx-6 -mb-6">
                {leases.map((l) => (
                  <tr key={`${l.leaseId}-${l.addedAt}`}>
                    <td className="px-6 py-2">{l.userEmail}</td>
                    <td className="px-6 py-2 whitespace-nowrap">{formatDateTime(l.addedAt)}</td>
                    <td className="px-6 py-2 whitespace-nowrap">{formatDateTime(l.releasedAt ?? l.endsAt)}</td>
                    <td className="px-6 py-2">
                      <Badge tone={l.releasedAt ? "stone" : "indigo"}>{l.releasedAt ? `lease ${l.state}` : "lease: held now"}</Badge>
                    </td>
                  </tr>
                ))}
              </Table>
            )}
          </Card>

          <Card title="Timeline">
            {events.length === 0 ? (
              <p className="text-sm text-stone-500">Nothing recorded yet.</p>
            ) : (
              <ol className="relative space-y-4 border-l border-stone-200 pl-5">
                {events.map((e, i) => (
                  <li key={i} className="relative">
                    <span aria-hidden className="absolute -left-[1.6rem] top-1.5 h-2.5 w-2.5 rounded-full border-2 border-white bg-kiln-500 ring-1 ring-stone-300" />
                    <p className="text-sm">
                      <span className="font-medium">{e.kind.replace(/_/g, " ")}</span>
                      {e.fromState || e.toState ? (
                        <span className="text-stone-600">
                          {" "}
                          {e.fromState ? `${e.fromState} → ` : "→ "}
                          {e.toState ?? "—"}
                        </span>
                      ) : null}
                      {e.message ? <span className="text-stone-700"> · {e.message}</span> : null}
                    </p>
                    <p className="text-xs text-stone-500">
                      {formatDateTime(e.at)}
                      {e.actorEmail ? ` · ${e.actorEmail}` : " · Kiln"}
                    </p>
                  </li>
                ))}
              </ol>
            )}
          </Card>
        </div>

        {isAdmin ? (
          <aside className="space-y-6">
            <Card>
              <HostAdminPanel
                host={{ id: host.id, name: host.name, state: host.state, poolId: host.poolId, tags: host.tags, notes: host.notes, siteId: host.siteId, interfaces: host.interfaces, arch: host.arch, piSerial: host.piSerial }}
                pools={pools.map((p) => ({ id: p.id, name: p.name }))}
                sites={sites.map((s) => ({ id: s.id, name: s.name }))}
                hostVars={hostVars ?? undefined}
              />
            </Card>
          </aside>
        ) : null}
      </div>
    </div>
  );
}
