"use client";
// Admins edit a host's power driver, its settings and its password here, and test them.
// The password is write-only: the page only knows whether one is stored; a blank field keeps
// it, "clear" removes it. Settings this form does not show (an IPMI cipher suite set through
// the API) are kept while the driver stays the same.
import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { POWER_DRIVERS } from "@/lib/validation/inventory";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Field, SelectField } from "../ui/field";
import { useApi } from "../ui/use-api";
import { powerKey } from "./use-power";

type Driver = (typeof POWER_DRIVERS)[number];
type Param = { key: string; label: string; kind: "text" | "number" | "checkbox"; hint?: string; placeholder?: string; defaultChecked?: boolean };

const DRIVER_LABEL: Record<Driver, string> = {
  manual: "Manual (someone presses the button)",
  wol: "Wake-on-LAN (on only)",
  ipmi: "IPMI (ipmitool, lanplus)",
  redfish: "Redfish (HTTPS)",
  qemu: "QEMU (lab VM, QMP socket)",
  plugin: "Plugin (an executable)",
};

const PARAMS: Record<Driver, Param[]> = {
  manual: [],
  wol: [
    { key: "mac", label: "MAC address", kind: "text", hint: "Blank: the host's PXE interface." },
    { key: "broadcast", label: "Broadcast address", kind: "text", placeholder: "255.255.255.255" },
    { key: "port", label: "UDP port", kind: "number", placeholder: "9" },
  ],
  ipmi: [
    { key: "address", label: "BMC address", kind: "text", placeholder: "10.0.0.5" },
    { key: "port", label: "Port", kind: "number", placeholder: "623" },
    { key: "username", label: "Username", kind: "text", placeholder: "ADMIN" },
  ],
  redfish: [
    { key: "address", label: "BMC address", kind: "text", placeholder: "https://10.0.0.5", hint: "https://host or https://host:port" },
    { key: "systemId", label: "System id", kind: "text", hint: "Blank: the first system the BMC lists under /redfish/v1/Systems." },
    { key: "username", label: "Username", kind: "text" },
    { key: "verifyCertificate", label: "Verify the BMC's certificate", kind: "checkbox", defaultChecked: true, hint: "Untick for a BMC with a self-signed certificate (this host only)." },
  ],
  qemu: [
    { key: "qmpSocket", label: "QMP socket", kind: "text", placeholder: "/var/lib/kiln/lab/vm1/qmp.sock" },
    { key: "launch", label: "Launch script", kind: "text", placeholder: "/var/lib/kiln/lab/vm1/start-vm.sh" },
    { key: "serialSocket", label: "Serial socket", kind: "text", placeholder: "/var/lib/kiln/lab/vm1/serial.sock", hint: "The VM's serial port as a unix socket chardev: the host page's console attaches here." },
  ],
  plugin: [
    { key: "command", label: "Executable", kind: "text", placeholder: "/usr/local/lib/kiln/power-pdu" },
    { key: "timeoutSeconds", label: "Timeout (s)", kind: "number", placeholder: "30" },
  ],
};

/** Drivers that take a password (secrets.password). */
const HAS_PASSWORD: Record<Driver, boolean> = { manual: false, wol: false, ipmi: true, redfish: true, qemu: false, plugin: true };

type TestResult = { ok: boolean; driver: string; state: string; message: string; log: string[] };

export function PowerSettings({ hostId, power }: { hostId: string; power: { driver: string; params: Record<string, unknown>; secretsSet: string[] } }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const initialDriver = (POWER_DRIVERS as readonly string[]).includes(power.driver) ? (power.driver as Driver) : "manual";
  const [driver, setDriver] = useState<Driver>(initialDriver);
  const [values, setValues] = useState<Record<string, string | boolean>>(() => valuesOf(initialDriver, power.params));
  const [password, setPassword] = useState("");
  const [clear, setClear] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(false);
  const save = useApi<{ power: { driver: Driver; params: Record<string, string | number | boolean>; secrets?: Record<string, string> } }>(`/api/v1/hosts/${hostId}`, "PATCH");
  const test = useApi<Record<string, never>, TestResult>(`/api/v1/hosts/${hostId}/power/test`);
  const passwordSet = power.secretsSet.includes("password");

  const change = (fn: () => void) => {
    fn();
    setDirty(true);
    setSaved(false);
    test.reset();
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const params: Record<string, string | number | boolean> = {};
    // Keys this form does not show survive an edit that keeps the driver.
    if (driver === power.driver) for (const [k, v] of Object.entries(power.params)) if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") params[k] = v;
    for (const p of PARAMS[driver]) {
      const v = values[p.key];
      delete params[p.key];
      if (p.kind === "checkbox") params[p.key] = v === true;
      else if (typeof v === "string" && v.trim() !== "") params[p.key] = p.kind === "number" && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim();
    }
    const secrets: Record<string, string> | undefined = clear ? {} : password ? { password } : undefined;
    save.mutate(
      { power: { driver, params, ...(secrets !== undefined ? { secrets } : {}) } },
      {
        onSuccess: () => {
          setDirty(false);
          setSaved(true);
          setPassword("");
          setClear(false);
          router.refresh();
          // The power card's buttons depend on the driver (can it switch off, boot from the network).
          void queryClient.invalidateQueries({ queryKey: powerKey(hostId) });
        },
      },
    );
  };

  return (
    <form className="space-y-4" onSubmit={submit} aria-label="Power settings">
      <SelectField
        label="Power driver"
        value={driver}
        onChange={(e) =>
          change(() => {
            const d = e.target.value as Driver;
            setDriver(d);
            setValues(valuesOf(d, d === power.driver ? power.params : {}));
          })
        }
        error={save.errorsOf("power.driver")}
      >
        {POWER_DRIVERS.map((d) => (
          <option key={d} value={d}>
            {DRIVER_LABEL[d]}
          </option>
        ))}
      </SelectField>
      {PARAMS[driver].map((p) =>
        p.kind === "checkbox" ? (
          <label key={p.key} className="flex items-start gap-2 text-sm">
            <input type="checkbox" checked={values[p.key] === true} onChange={(e) => change(() => setValues((v) => ({ ...v, [p.key]: e.target.checked })))} className="mt-0.5 h-4 w-4 accent-kiln-600" />
            <span>
              {p.label}
              {p.hint ? <span className="block text-xs text-stone-500">{p.hint}</span> : null}
            </span>
          </label>
        ) : (
          <Field
            key={p.key}
            label={p.label}
            hint={p.hint}
            placeholder={p.placeholder}
            inputMode={p.kind === "number" ? "numeric" : undefined}
            value={String(values[p.key] ?? "")}
            onChange={(e) => change(() => setValues((v) => ({ ...v, [p.key]: e.target.value })))}
            error={save.errorsOf(`power.params.${p.key}`)}
          />
        ),
      )}
      {HAS_PASSWORD[driver] ? (
        <div className="space-y-2">
          <Field
            label="Password"
            type="password"
            autoComplete="new-password"
            value={password}
            disabled={clear}
            placeholder={passwordSet ? "set — leave blank to keep it" : "not set"}
            hint={passwordSet ? "A password is stored (it is never shown). Type a new one to replace it." : "No password is stored."}
            onChange={(e) => change(() => setPassword(e.target.value))}
            error={save.errorsOf("power.secrets")}
          />
          {passwordSet ? (
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={clear} onChange={(e) => change(() => setClear(e.target.checked))} className="h-4 w-4 accent-kiln-600" />
              Clear the stored password
            </label>
          ) : null}
        </div>
      ) : null}
      {save.formError ? <Alert tone="error">{save.formError}</Alert> : null}
      {saved ? <Alert tone="success">Power settings saved.</Alert> : null}
      <div className="flex flex-wrap items-center gap-2">
        <Button type="submit" disabled={save.isPending || !dirty}>
          {save.isPending ? "Saving…" : "Save power settings"}
        </Button>
        <Button type="button" variant="secondary" disabled={test.isPending || dirty} onClick={() => test.mutate({}, { onSuccess: () => void queryClient.invalidateQueries({ queryKey: powerKey(hostId) }) })}>
          {test.isPending ? "Testing…" : "Test power"}
        </Button>
        {dirty ? <span className="text-xs text-stone-500">Save first: the test uses the saved settings.</span> : null}
      </div>
      {test.data ? (
        <div className="space-y-2" data-testid="power-test-result">
          <Alert tone={test.data.ok ? "success" : "error"}>
            {test.data.ok ? `It works: the machine is ${test.data.state} (${test.data.message}).` : `It does not work: ${test.data.message}`}
          </Alert>
          {test.data.log.length ? <pre className="max-h-40 overflow-auto rounded bg-stone-50 p-2 text-xs text-stone-700">{test.data.log.join("\n")}</pre> : null}
        </div>
      ) : null}
      {test.formError ? <Alert tone="error">{test.formError}</Alert> : null}
    </form>
  );
}

function valuesOf(driver: Driver, params: Record<string, unknown>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const p of PARAMS[driver]) {
    const v = params[p.key];
    if (p.kind === "checkbox") out[p.key] = v === undefined ? (p.defaultChecked ?? false) : v === true || v === "true";
    else out[p.key] = v === undefined || v === null ? "" : String(v);
  }
  return out;
}
