// The wipe at a lease's end waits for someone to restart a machine Kiln cannot restart
// (Wake-on-LAN, manual power): the host page says so, with how long Kiln waits before it
// hands the host to an administrator (maintenance).
import type { ReleaseWait } from "@/lib/hosts/release-wait";
import { Alert } from "../ui/alert";
import { formatDateTime } from "../ui/format";

export function ReleaseWaitNotice({ wait }: { wait: Pick<ReleaseWait, "message" | "since" | "until"> }) {
  return (
    <Alert tone="info">
      <p className="font-medium">Waiting for a restart before the wipe</p>
      <p data-testid="release-wait">{wait.message}</p>
      {wait.until ? (
        <p className="mt-1 text-xs">
          Waiting since {formatDateTime(wait.since)}; if the machine has not network-booted by {formatDateTime(wait.until)}, the host goes to maintenance.
        </p>
      ) : null}
    </Alert>
  );
}
