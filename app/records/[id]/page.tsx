// /records/[id] — a run's experiment record at its permanent URL (for a DOI): what ran, every pinned part with its sha256, the machine's facts, the outcome; Download JSON, Publish, Re-run…
import Link from "next/link";
import type { ReactNode } from "react";
import { notFound, redirect } from "next/navigation";
import { RecordActions } from "@/components/records/record-actions";
import { Badge, type Tone } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { formatBytes, formatDateTime, formatDuration, formatMemory } from "@/components/ui/format";
import { actorOf } from "@/lib/audit/audit";
import { getCurrentUserOrNull } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { getRunRecord, listRerunHosts } from "@/lib/deployments/records";
import type { HostFacts } from "@/lib/hosts/facts";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Run record" };
export const dynamic = "force-dynamic";

const ACTION_TEXT = { install: "Install", deploy_image: "Image deploy" } as const;
const OUTCOME_TONE: Record<string, Tone> = { pending: "sky", running: "sky", done: "green", failed: "red", cancelled: "amber" };

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[10rem_1fr] gap-2 py-1.5 text-sm">
      <dt className="text-stone-500">{label}</dt>
      <dd className="min-w-0 break-words text-stone-900">{children}</dd>
    </div>
  );
}

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
          <Row label="Permanent URL">
            <a href={view.url} className="break-all font-mono text-kiln-700 hover:underline" data-testid="record-url">
              {view.url}
            </a>
          </Row>
          <Row label="Record checksum">
            <Sha value={view.recordSha256} testId="record-sha256" />
            <p className="text-xs text-stone-500">of the record's canonical JSON: keys sorted at every level, no whitespace</p>
          </Row>
          <Row label="Ran">
            {formatDateTime(r.run.createdAt)} · Kiln {r.kiln.version} · run <span className="font-mono">{r.run.id}</span>
          </Row>
          {view.rerunOf ? (
            <Row label="Re-run of">
              <Link href={`/records/${view.rerunOf}`} className="font-mono text-kiln-700 hover:underline">
                {view.rerunOf}
              </Link>
            </Row>
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
          <Row label="Host">
            <span className="font-mono">{r.host.name}</span>
            <span className="text-stone-500"> · {r.host.macs.join(", ") || "no MAC"}</span>
          </Row>
          {r.image ? (
            <Row label="Image">
              <span data-testid="record-image">
                {r.image.name} v{r.image.version}
              </span>
              <span className="text-stone-500">
                {" "}
                · {formatBytes(r.image.sizeBytes)} · {r.image.format ?? "unknown format"}
              </span>
              <br />
              <Sha value={r.image.sha256} />
            </Row>
          ) : null}
          {r.templates.map((t) => (
            <Row key={t.role} label={t.role === "system" ? "Boot template" : "Unattended template"}>
              {t.name} v{t.version}
              {t.builtinKey ? <span className="text-stone-500"> · built in</span> : null}
              <br />
              <Sha value={t.sha256} />
            </Row>
          ))}
          <Row label="Rendered boot script">
            <Sha value={r.rendered.systemSha256} />
          </Row>
          {r.rendered.unattendedSha256 ? (
            <Row label="Rendered unattended file">
              <Sha value={r.rendered.unattendedSha256} />
            </Row>
          ) : null}
          <Row label="Kernel command line">
            {r.kernel ? (
              <code className="break-all font-mono text-xs" data-testid="record-cmdline">
                {r.kernel.image} {r.kernel.commandLine}
              </code>
            ) : (
              <span className="text-stone-500">the boot script loads no kernel</span>
            )}
          </Row>
          <Row label="Variables">
            {Object.keys(r.vars).length ? <pre className="overflow-auto rounded bg-stone-50 p-2 font-mono text-xs">{JSON.stringify(r.vars, null, 2)}</pre> : <span className="text-stone-500">none</span>}
          </Row>
          <Row label="Options">
            disk {r.options.disk ?? "chosen by the agent"}
            {r.options.wipeFirst ? " · whole disk erased first" : ""}
            {r.options.postInstall ? ` · post-install ${r.options.postInstall.gitUrl} @ ${r.options.postInstall.ref} (${r.options.postInstall.path})` : ""}
          </Row>
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
          <Row label="CPU">
            {r.facts?.snapshot.cpuCores ?? "?"} {r.facts?.snapshot.cpuCores === 1 ? "core" : "cores"}{f.cpu?.model ? ` · ${f.cpu.model}` : ""}
          </Row>
          <Row label="Memory">{formatMemory(r.facts?.snapshot.memoryMb)}</Row>
          <Row label="Disks">
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
          </Row>
          <Row label="NICs">
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
          </Row>
          <Row label="Firmware">{f.firmware ? (f.firmware === "uefi" ? "UEFI" : "BIOS") : "—"}</Row>
          <Row label="System">{[dmi.vendor, dmi.product, dmi.biosVersion ? `BIOS ${dmi.biosVersion}` : null].filter(Boolean).join(" · ") || "—"}</Row>
        </dl>
      </Card>

      <Card title="Outcome">
        {view.outcome ? (
          <dl data-testid="record-outcome">
            <Row label="State">{view.outcome.state}</Row>
            <Row label="Finished">{formatDateTime(view.outcome.finishedAt)}</Row>
            <Row label="Took">{view.outcome.durationSeconds === null ? "—" : formatDuration(view.outcome.durationSeconds * 1000)}</Row>
            {view.outcome.failureReason ? <Row label="Why">{view.outcome.failureReason}</Row> : null}
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
