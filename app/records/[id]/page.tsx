// /records/[id] — a run's experiment record at its permanent URL (for a DOI): what ran, every pinned part with its sha256, the machine's facts, the outcome; Download JSON, Publish, Re-run…
import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { RecordActions } from "@/components/records/record-actions";
import { Badge, type Tone } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { DetailRow } from "@/components/ui/detail-row";
import { formatBytes, formatDateTime, formatDuration, formatMemory } from "@/components/ui/format";
import { actorOf } from "@/lib/access/actor";
import { getCurrentUserOrNull } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { getRunRecord, listRerunHosts } from "@/lib/deployments/record-access";
import type { HostFacts } from "@/lib/hosts/facts";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Run record" };
export const dynamic = "force-dynamic";

const ACTION_TEXT = { install: "Install", deploy_image: "Image deploy" } as const;
const OUTCOME_TONE: Record<string, Tone> = { pending: "sky", running: "sky", done: "green", failed: "red", cancelled: "amber" };

function Sha({ value, testId }: { value: string | null | undefined; testId?: string }) {
  return value ? (
    <code className="break-all font-mono text-xs text-stone-700" data-testid={testId}>
      sha256 {value}
    </code>
  ) : (
    <span className="text-stone-500">—</span>
  );
}

export default async function RunRecordPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!uuidSchema.safeParse(id).success) notFound();
  // Published records are public; others are for the project's members, so a signed-out visitor is asked to sign in first.
  const current = await getCurrentUserOrNull();
  const actor = actorOf(current?.user ?? null, null);
  const db = getAppDb();
  let view;
  try {
    view = await getRunRecord(db, actor, id);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") {
      if (!current) redirect(`/signin?next=${encodeURIComponent(`/records/${id}`)}`);
      notFound();
    }
    throw e;
  }
  const r = view.record;
  const hosts = current ? await listRerunHosts(db, actor, id) : [];
  const f = (r.facts?.snapshot.facts ?? {}) as HostFacts;
  const dmi = f.dmi ?? {};

  return (
    <div className="mx-auto max-w-5xl space-y-6 px-4 py-8">
      <div>
        <p className="text-sm text-stone-500">Run record</p>
        <div className="mt-1 flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold">
            {ACTION_TEXT[r.run.action]} on <span className="font-mono">{r.host.name}</span>
          </h1>
          {view.outcome ? <Badge tone={OUTCOME_TONE[view.outcome.state]}>{view.outcome.state}</Badge> : <Badge tone="sky">in progress</Badge>}
          {view.publishedAt ? <Badge tone="green">published {formatDateTime(view.publishedAt).slice(0, 10)}</Badge> : <Badge>not published</Badge>}
        </div>
        <dl className="mt-3">
          <DetailRow label="Permanent URL">
            <a href={view.url} className="break-all font-mono text-kiln-700 hover:underline" data-testid="record-url">
              {view.url}
            </a>
          </DetailRow>
          <DetailRow label="Record checksum">
            <Sha value={view.recordSha256} testId="record-sha256" />
            <p className="text-xs text-stone-500">of the record's canonical JSON: keys sorted at every level, no whitespace</p>
          </DetailRow>
          <DetailRow label="Ran">
            {formatDateTime(r.run.createdAt)} · Kiln {r.kiln.version} · run <span className="font-mono">{r.run.id}</span>
          </DetailRow>
          {view.rerunOf ? (
            <DetailRow label="Re-run of">
              <Link href={`/records/${view.rerunOf}`} className="font-mono text-kiln-700 hover:underline">
                {view.rerunOf}
              </Link>
            </DetailRow>
          ) : null}
        </dl>
      </div>

      <RecordActions
        recordId={view.id}
        canPublish={view.canPublish}
        signedIn={Boolean(current)}
        hosts={hosts}
        recordHostId={r.host.id}
      />

      <Card title="What ran" description="Every part pinned when the run was created, with its sha256.">
        <dl data-testid="record-pins">
          <DetailRow label="Host">
            <span className="font-mono">{r.host.name}</span>
            <span className="text-stone-500"> · {r.host.macs.join(", ") || "no MAC"}</span>
          </DetailRow>
          {r.image ? (
            <DetailRow label="Image">
              <span data-testid="record-image">
                {r.image.name} v{r.image.version}
              </span>
              <span className="text-stone-500">
                {" "}
                · {formatBytes(r.image.sizeBytes)} · {r.image.format ?? "unknown format"}
              </span>
              <br />
              <Sha value={r.image.sha256} />
            </DetailRow>
          ) : null}
          {r.templates.map((t) => (
            <DetailRow key={t.role} label={t.role === "system" ? "Boot template" : "Unattended template"}>
              {t.name} v{t.version}
              {t.builtinKey ? <span className="text-stone-500"> · built in</span> : null}
              <br />
              <Sha value={t.sha256} />
            </DetailRow>
          ))}
          <DetailRow label="Rendered boot script">
            <Sha value={r.rendered.systemSha256} />
          </DetailRow>
          {r.rendered.unattendedSha256 ? (
            <DetailRow label="Rendered unattended file">
              <Sha value={r.rendered.unattendedSha256} />
            </DetailRow>
          ) : null}
          <DetailRow label="Kernel command line">
            {r.kernel ? (
              <code className="break-all font-mono text-xs" data-testid="record-cmdline">
                {r.kernel.image} {r.kernel.commandLine}
              </code>
            ) : (
              <span className="text-stone-500">the boot script loads no kernel</span>
            )}
          </DetailRow>
          <DetailRow label="Variables">
            {Object.keys(r.vars).length ? <pre className="overflow-auto rounded bg-stone-50 p-2 font-mono text-xs">{JSON.stringify(r.vars, null, 2)}</pre> : <span className="text-stone-500">none</span>}
          </DetailRow>
          <DetailRow label="Options">
            disk {r.options.disk ?? "chosen by the agent"}
            {r.options.wipeFirst ? " · whole disk erased first" : ""}
            {r.options.postInstall ? ` · post-install ${r.options.postInstall.gitUrl} @ ${r.options.postInstall.ref} (${r.options.postInstall.path})` : ""}
          </DetailRow>
        </dl>
        <p className="mt-3 text-xs text-stone-500">
          The rendered texts are hashed as Kiln stored them: with a per-run placeholder where the machine's one-time token goes. The token itself is never stored; the command line shows it as &lt;token&gt;.
        </p>
      </Card>

      <Card
        title="The machine at the time"
        description={r.facts?.version ? `Fact version ${r.facts.version}, reported ${formatDateTime(r.facts.recordedAt)} (${r.facts.source}).` : "The host was never inventoried; what an administrator entered."}
      >
        <dl data-testid="record-facts">
          <DetailRow label="CPU">
            {r.facts?.snapshot.cpuCores ?? "?"} {r.facts?.snapshot.cpuCores === 1 ? "core" : "cores"}{f.cpu?.model ? ` · ${f.cpu.model}` : ""}
          </DetailRow>
          <DetailRow label="Memory">{formatMemory(r.facts?.snapshot.memoryMb)}</DetailRow>
          <DetailRow label="Disks">
            {r.facts?.snapshot.disks.length ? (
              <ul>
                {r.facts.snapshot.disks.map((d) => (
                  <li key={d.name}>
                    <span className="font-mono">{d.name}</span> {formatBytes(d.sizeBytes)}
                    <span className="text-stone-500">{[d.type, d.model, d.serial ? `serial ${d.serial}` : null].filter(Boolean).map((x) => ` · ${x}`).join("")}</span>
                  </li>
                ))}
              </ul>
            ) : (
              "—"
            )}
          </DetailRow>
          <DetailRow label="NICs">
            {f.nics?.length ? (
              <ul>
                {f.nics.map((n) => (
                  <li key={n.mac}>
                    <span className="font-mono">{n.mac}</span> {n.name}
                    <span className="text-stone-500">{[n.driver, n.speedMbps !== undefined ? `${n.speedMbps} Mb/s` : null].filter(Boolean).map((x) => ` · ${x}`).join("")}</span>
                  </li>
                ))}
              </ul>
            ) : (
              "—"
            )}
          </DetailRow>
          <DetailRow label="Firmware">{f.firmware ? (f.firmware === "uefi" ? "UEFI" : "BIOS") : "—"}</DetailRow>
          <DetailRow label="System">{[dmi.vendor, dmi.product, dmi.biosVersion ? `BIOS ${dmi.biosVersion}` : null].filter(Boolean).join(" · ") || "—"}</DetailRow>
        </dl>
      </Card>

      <Card title="Outcome">
        {view.outcome ? (
          <dl data-testid="record-outcome">
            <DetailRow label="State">{view.outcome.state}</DetailRow>
            <DetailRow label="Finished">{formatDateTime(view.outcome.finishedAt)}</DetailRow>
            <DetailRow label="Took">{view.outcome.durationSeconds === null ? "—" : formatDuration(view.outcome.durationSeconds * 1000)}</DetailRow>
            {view.outcome.failureReason ? <DetailRow label="Why">{view.outcome.failureReason}</DetailRow> : null}
          </dl>
        ) : (
          <p className="text-sm text-stone-600">The run has not ended yet.</p>
        )}
        {view.reruns.length ? (
          <div className="mt-3 text-sm">
            <p className="text-stone-500">Re-runs of this record:</p>
            <ul>
              {view.reruns.map((x) => (
                <li key={x}>
                  <Link href={`/records/${x}`} className="font-mono text-kiln-700 hover:underline">
                    {x}
                  </Link>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </Card>
    </div>
  );
}
