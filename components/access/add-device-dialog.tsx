"use client";
// "Add a device": a name and where the key pair comes from — this browser (WebCrypto X25519;
// only the public key is sent), Kiln (the private key comes back once), or a public key the
// person already has. Then the file to download and its QR code, in the same dialog.
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { Dialog, DialogActions, FormActions } from "../ui/dialog";
import { Field, TextAreaField } from "../ui/field";
import { ApiError, callApi, errorsOf } from "../ui/use-api";
import { generateBrowserKeyPair, isBrowserKeySupported, withPrivateKey } from "./browser-key";
import { DeviceConfig } from "./device-config";

type KeySource = "browser" | "server" | "pasted";
type Created = { id: string; name: string; address: string; config: string; privateKey: string | null };
type Shown = { name: string; address: string; config: string; hasPrivateKey: boolean };

const CHOICES: { value: KeySource; label: string; hint: string }[] = [
  { value: "browser", label: "Make the key in this browser (the private key never leaves it)", hint: "Kiln receives only the public key; this page writes the private key into the file you download." },
  { value: "server", label: "Make the key on the server (shown once)", hint: "Kiln makes the key pair and shows the private key this once, without storing it." },
  { value: "pasted", label: "I have a public key", hint: "Paste the output of wg pubkey; you put the private key into the file yourself." },
];

export function AddDeviceDialog() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [source, setSource] = useState<KeySource>("browser");
  const [browserKeys, setBrowserKeys] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError["failure"] | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);

  useEffect(() => {
    isBrowserKeySupported().then((ok) => {
      setBrowserKeys(ok);
      if (!ok) setSource((s) => (s === "browser" ? "server" : s));
    });
  }, []);

  function close() {
    // Forget the file (and any private key in it) with the dialog.
    setOpen(false);
    setShown(null);
    setFailure(null);
  }

  async function submit(form: HTMLFormElement) {
    const values = Object.fromEntries(new FormData(form).entries()) as Record<string, string>;
    const name = (values.name ?? "").trim();
    setBusy(true);
    setFailure(null);
    try {
      if (source === "browser") {
        const pair = await generateBrowserKeyPair();
        const created = await callApi<Created>("/api/v1/me/vpn-devices", "POST", { name, publicKey: pair.publicKey, keyOrigin: "browser" });
        setShown({ name: created.name, address: created.address, config: withPrivateKey(created.config, pair.privateKey), hasPrivateKey: true });
      } else if (source === "server") {
        const created = await callApi<Created>("/api/v1/me/vpn-devices", "POST", { name, generate: "server" });
        setShown({ name: created.name, address: created.address, config: created.config, hasPrivateKey: true });
      } else {
        const created = await callApi<Created>("/api/v1/me/vpn-devices", "POST", { name, publicKey: values.publicKey ?? "", keyOrigin: "pasted" });
        setShown({ name: created.name, address: created.address, config: created.config, hasPrivateKey: false });
      }
      router.refresh();
    } catch (e) {
      setFailure(e instanceof ApiError ? e.failure : { message: (e as Error).message, code: "error", fieldErrors: {}, status: 0 });
    } finally {
      setBusy(false);
    }
  }

  const fieldErrors = failure?.fieldErrors ?? {};
  const formError = failure && !Object.values(fieldErrors).flat().includes(failure.message) ? failure.message : null;
  return (
    <>
      <Button onClick={() => setOpen(true)}>Add a device</Button>
      <Dialog open={open} onClose={close} title={shown ? `Your WireGuard file for ${shown.name}` : "Add a device"} size="lg">
        {shown ? (
          <div className="space-y-4">
            <DeviceConfig {...shown} />
            <DialogActions>
              <Button variant="secondary" onClick={close}>
                Done
              </Button>
            </DialogActions>
          </div>
        ) : (
          <form
            className="space-y-4"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              void submit(e.currentTarget);
            }}
          >
            {formError ? <Alert tone="error">{formError}</Alert> : null}
            <Field
              name="name"
              label="Device name"
              placeholder="laptop"
              maxLength={10}
              hint="Up to 10 letters, digits, dots, dashes or underscores; the file is kiln-<name>.conf."
              error={errorsOf(fieldErrors, "name")}
            />
            <fieldset className="space-y-2">
              <legend className="text-sm font-medium text-stone-800">The device&apos;s key pair</legend>
              {CHOICES.map((c) => {
                const unavailable = c.value === "browser" && browserKeys === false;
                return (
                  <label key={c.value} className={`flex items-start gap-2 text-sm ${unavailable ? "text-stone-400" : ""}`}>
                    <input type="radio" name="source" value={c.value} checked={source === c.value} disabled={unavailable} onChange={() => setSource(c.value)} className="mt-1" />
                    <span>
                      {c.label}
                      <span className="block text-xs text-stone-500">{unavailable ? "This browser cannot make X25519 keys; choose another way." : c.hint}</span>
                    </span>
                  </label>
                );
              })}
            </fieldset>
            {source === "pasted" ? (
              <TextAreaField name="publicKey" label="Public key" rows={2} placeholder="44 characters ending in =" error={errorsOf(fieldErrors, "publicKey")} />
            ) : errorsOf(fieldErrors, "publicKey") ? (
              <Alert tone="error">{errorsOf(fieldErrors, "publicKey")!.join(" ")}</Alert>
            ) : null}
            <FormActions onCancel={close} label="Add device" busy={busy} busyLabel="Adding…" />
          </form>
        )}
      </Dialog>
    </>
  );
}
