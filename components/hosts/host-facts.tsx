// A host's hardware as commissioning reports it (lib/hosts/facts.ts), and its fact versions with
// what changed since the one before (lib/hosts/facts-diff.ts). Server-rendered, no client code.
import type { ReactNode } from "react";
import type { FactVersionView, HostFacts } from "@/lib/hosts/fact-versions";
import { Badge } from "../ui/badge";
import { formatDateTime, formatMemory } from "../ui/format";

/** The keys of hosts.facts shown here; any others are shown as they are by the caller. */
export const STRUCTURED_FACT_KEYS = new Set(["cpu", "nics", "dmi", "firmware", "bmc", "commissionedAt"]);

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[8rem_1fr] gap-2 py-1.5 text-sm">
      <dt className="text-stone-500">{label}</dt>
      <dd className="min-w-0 text-stone-900">{children}</dd>
    </div>
  );
}

export function StructuredFacts({ facts }: { facts: HostFacts }) {
  const dmi = facts.dmi ?? {};
  const system = [dmi.vendor, dmi.product].filter(Boolean).join(" ");
  return (
    <>
      {facts.cpu ? (
        <Row label="CPU">
          <span data-testid="fact-cpu">
            {facts.cpu.model ?? "unknown model"}
            <span className="text-stone-500">
              {facts.cpu.threads ? ` · ${facts.cpu.threads} threads` : ""}
              {facts.cpu.cores ? ` · ${facts.cpu.cores} cores` : ""}
              {facts.cpu.sockets ? ` · ${facts.cpu.sockets} socket${facts.cpu.sockets === 1 ? "" : "s"}` : ""}
            </span>
          </span>
        </Row>
      ) : null}
      {facts.nics && facts.nics.length > 0 ? (
        <Row label="NICs">
          <ul className="space-y-0.5" data-testid="fact-nics">
            {facts.nics.map((n) => (
              <li key={n.mac}>
                <span className="font-mono">{n.mac}</span> {n.name}
                <span className="text-stone-500">
                  {n.driver ? ` · ${n.driver}` : ""}
                  {n.speedMbps !== undefined ? ` · ${n.speedMbps >= 1000 ? `${n.speedMbps / 1000} Gb/s` : `${n.speedMbps} Mb/s`}` : ""}
                  {n.link === undefined ? "" : n.link ? " · link up" : " · no link"}
                </span>
              </li>
            ))}
          </ul>
        </Row>
      ) : null}
      {system || dmi.serial ? (
        <Row label="System">
          <span data-testid="fact-dmi">
            {system || "—"}
            {dmi.serial ? <span className="text-stone-500"> · serial {dmi.serial}</span> : null}
            {dmi.boardName ? <span className="text-stone-500"> · board {[dmi.boardVendor, dmi.boardName].filter(Boolean).join(" ")}</span> : null}
            {dmi.biosVersion ? <span className="text-stone-500"> · BIOS {dmi.biosVersion}</span> : null}
          </span>
        </Row>
      ) : null}
      {facts.firmware ? (
        <Row label="Firmware">
          <span data-testid="fact-firmware">{facts.firmware === "uefi" ? "UEFI" : "BIOS"}</span>
        </Row>
      ) : null}
      {facts.bmc !== undefined ? <Row label="BMC">{facts.bmc ? <span className="font-mono">{facts.bmc.address}</span> : <span className="text-stone-500">none found</span>}</Row> : null}
      <Row label="Commissioned">{facts.commissionedAt ? formatDateTime(facts.commissionedAt) : <span className="text-stone-500">never</span>}</Row>
    </>
  );
}

const KIND_TONE = { added: "green", removed: "red", changed: "amber" } as const;

export function FactVersions({ versions }: { versions: FactVersionView[] }) {
  if (versions.length === 0) return <p className="text-sm text-stone-500">No hardware reported yet: the host was never commissioned or deployed.</p>;
  return (
    <ol className="space-y-4" data-testid="fact-versions">
      {versions.map((v) => (
        <li key={v.version} data-testid={`fact-version-${v.version}`}>
          <p className="text-sm">
            <span className="font-medium">Version {v.version}</span>
            <span className="text-stone-500">
              {" "}
              · {v.source === "commission" ? "commissioning" : "deploy agent"} · {formatDateTime(v.recordedAt)} · {v.cpuCores ?? "?"} cores, {formatMemory(v.memoryMb)}
            </span>
          </p>
          {v.changes === null ? (
            <p className="text-xs text-stone-500">The first report.</p>
          ) : v.changes.length === 0 ? (
            <p className="text-xs text-stone-500">Nothing changed since version {v.version - 1}.</p>
          ) : (
            <ul className="mt-1 space-y-1 text-sm" aria-label={`Changes in version ${v.version}`}>
              {v.changes.map((c, i) => (
                <li key={i} className="flex flex-wrap items-baseline gap-2">
                  <Badge tone={KIND_TONE[c.kind]}>{c.kind}</Badge>
                  <span className="font-medium">{c.what}</span>
                  <span className="text-stone-600">
                    {c.before !== null ? <span className="line-through decoration-stone-400">{c.before}</span> : null}
                    {c.before !== null && c.after !== null ? " → " : null}
                    {c.after}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}
