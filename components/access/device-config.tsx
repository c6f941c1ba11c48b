"use client";
// A new device's WireGuard file: download it, or scan it with the phone app. When it carries the
// private key this is the only time it can: Kiln never stored that key.
import QRCode from "qrcode";
import { useEffect, useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";

/** Saves text as a file through a Blob, so a private key made in this page never goes to Kiln. */
export function downloadText(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked after the click has been handled, so the download has its bytes.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function DeviceConfig({ name, address, config, hasPrivateKey }: { name: string; address: string; config: string; hasPrivateKey: boolean }) {
  const [qr, setQr] = useState<string | null>(null);
  const [qrError, setQrError] = useState<string | null>(null);
  const filename = `kiln-${name}.conf`;
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(config, { errorCorrectionLevel: "M", margin: 2, width: 280 })
      .then((url) => live && setQr(url))
      .catch((e: Error) => live && setQrError(e.message));
    return () => {
      live = false;
    };
  }, [config]);
  return (
    <div className="space-y-4" data-testid="device-config">
      <p className="text-sm text-stone-700">
        <span className="font-medium">{name}</span> is added, with tunnel address <span className="font-mono">{address}</span>.
      </p>
      {hasPrivateKey ? (
        <div role="status" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="private-key-note">
          This file holds the device&apos;s private key and is shown only now: Kiln does not keep the private key. Download the file or scan the code before you
          close this; if it is lost, revoke the device and add it again.
        </div>
      ) : (
        <Alert tone="info">
          Kiln has only this device&apos;s public key: replace the PrivateKey line with the device&apos;s private key before you use the file.
        </Alert>
      )}
      <div className="flex flex-wrap items-start gap-4">
        <div className="space-y-2">
          <Button type="button" onClick={() => downloadText(filename, config)} data-autofocus>
            Download {filename}
          </Button>
          <p className="text-xs text-stone-500">
            Import it in the WireGuard app, or run <span className="font-mono">wg-quick up ./{filename}</span>.
          </p>
        </div>
        {qr ? (
          // A data: URL made in this page: nothing for next/image to optimise.
          <img src={qr} width={200} height={200} alt={`QR code of ${filename}, for the WireGuard app on a phone`} className="rounded border border-stone-200" data-testid="device-qr" />
        ) : qrError ? (
          <p className="text-sm text-red-700">The QR code could not be made: {qrError}</p>
        ) : null}
      </div>
      <details className="text-sm">
        <summary className="cursor-pointer text-stone-700">Show the file</summary>
        <pre className="mt-2 overflow-x-auto rounded bg-stone-100 p-3 font-mono text-xs" data-testid="device-config-text">
          {config}
        </pre>
      </details>
    </div>
  );
}
