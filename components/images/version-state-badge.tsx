import { Badge } from "../ui/badge";
import type { VersionState } from "./types";

/** "uploading…" while bytes arrive, "verifying…" while the worker hashes the bytes and detects the format; then "ready" or "failed". */
export function VersionStateBadge({ state }: { state: VersionState }) {
  if (state === "ready") return <Badge tone="green" testId="version-state">ready</Badge>;
  if (state === "failed") return <Badge tone="red" testId="version-state">failed</Badge>;
  if (state === "uploading") return <Badge tone="sky" testId="version-state">uploading…</Badge>;
  return (
    <Badge tone="amber" testId="version-state">
      <span aria-hidden className="mr-1 inline-block h-1.5 w-1.5 animate-pulse rounded-full bg-amber-500" />
      verifying…
    </Badge>
  );
}
