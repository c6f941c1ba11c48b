"use client";
// The host page's power card for its holder and admins: the live state, and Power on / off /
// cycle, each confirmed in a dialog that says what happens to the machine. "Boot from the
// network next time" is offered where the driver can set it (IPMI, Redfish).
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { PowerView } from "@/lib/power/types";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, DialogActions } from "../ui/dialog";
import { formatDateTime, formatDuration } from "../ui/format";
import { useApi } from "../ui/use-api";
import { useNow } from "../ui/use-now";
import { PowerBadge } from "./power-badge";
import { powerKey, useHostPower } from "./use-power";

type Action = "on" | "off" | "cycle";
type Result = { state: string; message: string; log: string[] };

const LABEL: Record<Action, string> = { on: "Power on", off: "Power off", cycle: "Power cycle" };

function consequence(action: Action, power: PowerView, name: string): string {
  const manual = power.driver === "manual";
  if (manual) return `Kiln cannot switch ${name} itself: it will ask you to ${action === "cycle" ? "power-cycle" : `switch ${action}`} the machine by hand, and record that you were asked.`;
  if (power.driver === "wol") {
    return action === "on"
      ? `Kiln sends a Wake-on-LAN packet to ${name}. A machine that is off starts and boots; one that is already running is not affected.`
      : `Kiln sends a Wake-on-LAN packet to ${name}. That only wakes a machine that is off: a running machine is not restarted.`;
  }
  if (action === "on") return `${name} switches on and boots. If it is already on, nothing happens to it.`;
  if (action === "off") return `${name} is switched off at once, like pulling the plug: whatever runs on it stops without shutting down, and unsaved data is lost. Your lease continues; power it on again when you need it.`;
  return `${name} is reset at once, like pressing its reset button: whatever runs on it stops without shutting down, and the machine boots again. If it is off, it is switched on.`;
}

/** "12 s ago", ticking; the exact time on hover. */
function Ago({ iso }: { iso: string | null }) {
  const now = useNow();
  if (!iso) return <>never</>;
  return <span title={formatDateTime(iso)}>{now === null ? formatDateTime(iso) : `${formatDuration(now - new Date(iso).getTime())} ago`}</span>;
}

export function LivePowerBadge({ hostId, initial }: { hostId: string; initial: PowerView | null }) {
  const power = useHostPower(hostId, initial);
  return <PowerBadge power={power.data} />;
}

export function PowerControls({ hostId, hostName, initial }: { hostId: string; hostName: string; initial: PowerView | null }) {
  const queryClient = useQueryClient();
  const power = useHostPower(hostId, initial);
  const [confirm, setConfirm] = useState<Action | null>(null);
  const [network, setNetwork] = useState(false);
  const [result, setResult] = useState<{ action: Action | "status"; r: Result } | null>(null);
  const run = useApi<{ action: Action | "status"; bootFromNetwork?: boolean }, Result>(`/api/v1/hosts/${hostId}/power`);
  const p = power.data;
  if (!p) return <p className="text-sm text-stone-500">Reading the power state…</p>;

  const submit = (action: Action | "status") => {
    setResult(null);
    const withNetwork = network && p.networkBoot === "override" && action !== "off" && action !== "status";
    run.mutate(
      { action, ...(withNetwork ? { bootFromNetwork: true } : {}) },
      {
        onSuccess: (r) => {
          setResult({ action, r });
          setConfirm(null);
          void queryClient.invalidateQueries({ queryKey: powerKey(hostId) });
          void queryClient.invalidateQueries({ queryKey: ["power", "list"] });
        },
      },
    );
  };
  const open = (a: Action) => {
    run.reset();
    setNetwork(false);
    setConfirm(a);
  };

  return (
    <div className="space-y-3" data-testid="power-controls">
      <div className="flex flex-wrap items-center gap-2">
        <PowerBadge power={p} withSince />
        {p.reportsState ? (
          <span className="text-xs text-stone-500">
            checked <Ago iso={p.checkedAt} />
          </span>
        ) : null}
      </div>
      <p className="text-sm text-stone-600" data-testid="power-message">
        {p.message}
      </p>
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" onClick={() => open("on")}>
          Power on
        </Button>
        {p.canPowerOff ? (
          <Button variant="quietDanger" onClick={() => open("off")}>
            Power off
          </Button>
        ) : null}
        <Button variant="quietDanger" onClick={() => open("cycle")}>
          Power cycle
        </Button>
        {p.reportsState ? (
          <Button variant="ghost" disabled={run.isPending} onClick={() => submit("status")}>
            {run.isPending && !confirm ? "Checking…" : "Check now"}
          </Button>
        ) : null}
      </div>
      {!p.canPowerOff ? <p className="text-xs text-stone-500">Kiln cannot switch this machine off ({p.driver === "wol" ? "Wake-on-LAN" : "manual power"}): shut it down from its operating system.</p> : null}
      {result ? (
        <Alert tone="success">
          {result.action === "status" ? "Read the power state" : `${LABEL[result.action]}: done`} — {result.r.message}
        </Alert>
      ) : null}
      {run.formError && !confirm ? <Alert tone="error">{run.formError}</Alert> : null}

      <Dialog open={confirm !== null} onClose={() => setConfirm(null)} title={confirm ? `${LABEL[confirm]} ${hostName}?` : ""}>
        {confirm ? (
          <form
            className="space-y-4"
            onSubmit={(e) => {
              e.preventDefault();
              submit(confirm);
            }}
          >
            <p className="text-sm text-stone-700">{consequence(confirm, p, hostName)}</p>
            {confirm !== "off" && p.networkBoot === "override" ? (
              <label className="flex items-start gap-2 text-sm">
                <input type="checkbox" checked={network} onChange={(e) => setNetwork(e.target.checked)} className="mt-0.5 h-4 w-4 accent-kiln-600" />
                <span>
                  Boot from the network next time
                  <span className="block text-xs text-stone-500">For this one boot the machine asks Kiln first (its next boot as shown on this page), then goes back to its usual boot order.</span>
                </span>
              </label>
            ) : null}
            {confirm !== "off" && p.networkBoot === "always" ? <p className="text-xs text-stone-500">This machine asks Kiln over the network first on every boot.</p> : null}
            {run.formError ? <Alert tone="error">{run.formError}</Alert> : null}
            <DialogActions>
              <Button type="button" variant="secondary" onClick={() => setConfirm(null)}>
                Cancel
              </Button>
              <Button type="submit" variant={confirm === "on" ? "primary" : "danger"} disabled={run.isPending} data-autofocus>
                {run.isPending ? "Working…" : LABEL[confirm]}
              </Button>
            </DialogActions>
          </form>
        ) : null}
      </Dialog>
    </div>
  );
}
