"use client";
// The machine's serial console in the browser: xterm.js over a WebSocket to the boot server
// (same origin, through the portal's port). Connecting asks the portal for a one-minute,
// one-use ticket first (audited); the terminal code is loaded only when someone connects, so
// no other page carries it.
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState } from "react";
import type { FitAddon } from "@xterm/addon-fit";
import type { Terminal } from "@xterm/xterm";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { ApiError, callApi } from "@/components/ui/use-api";

type Status = "idle" | "connecting" | "open" | "closed";

export function ConsolePanel({ hostId, available, kind, unavailableReason }: { hostId: string; available: boolean; kind: "qemu" | "sol" | null; unavailableReason: string | null }) {
  const box = useRef<HTMLDivElement>(null);
  const term = useRef<{ terminal: Terminal; fit: FitAddon } | null>(null);
  const socket = useRef<WebSocket | null>(null);
  const [status, setStatus] = useState<Status>("idle");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const onResize = () => term.current?.fit.fit();
    window.addEventListener("resize", onResize);
    return () => {
      window.removeEventListener("resize", onResize);
      socket.current?.close();
      term.current?.terminal.dispose();
    };
  }, []);

  async function terminal(): Promise<Terminal> {
    if (term.current) return term.current.terminal;
    const [{ Terminal }, { FitAddon }] = await Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);
    const terminal = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 13, scrollback: 5000, theme: { background: "#1c1917" } });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(box.current!);
    fit.fit();
    // Keystrokes go to whichever socket is open now.
    terminal.onData((d) => {
      if (socket.current?.readyState === WebSocket.OPEN) socket.current.send(d);
    });
    term.current = { terminal, fit };
    return terminal;
  }

  async function connect() {
    setError(null);
    setStatus("connecting");
    let url: string;
    try {
      url = (await callApi<{ url: string }>(`/api/v1/hosts/${hostId}/console`, "POST")).url;
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "The console could not be opened.");
      setStatus("idle");
      return;
    }
    const t = await terminal();
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${url}`);
    ws.binaryType = "arraybuffer";
    socket.current = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      setStatus("open");
      t.focus();
    };
    ws.onmessage = (m) => t.write(typeof m.data === "string" ? m.data : new Uint8Array(m.data as ArrayBuffer));
    ws.onclose = () => {
      if (socket.current !== ws) return;
      socket.current = null;
      setStatus("closed");
      // A refused upgrade shows no reason to the page; the likeliest ones are said.
      if (!opened) setError("The console refused the connection: the lease may have ended, or the boot server is not running. Try again.");
      else t.write("\r\n\x1b[33m[Kiln] Disconnected.\x1b[0m\r\n");
    };
  }

  function disconnect() {
    socket.current?.close();
  }

  if (!available) return <p className="text-sm text-stone-600">{unavailableReason}</p>;
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center gap-3">
        {status === "open" || status === "connecting" ? (
          <Button variant="secondary" onClick={disconnect} disabled={status === "connecting"}>
            Disconnect
          </Button>
        ) : (
          <Button onClick={() => void connect()}>{status === "closed" ? "Connect again" : "Connect"}</Button>
        )}
        <span data-testid="console-status" className="text-sm text-stone-600">
          {status === "open" ? "Connected — what you type goes to the machine." : status === "connecting" ? "Connecting…" : status === "closed" ? "Disconnected." : "Not connected."}
        </span>
      </div>
      {error ? <Alert tone="error">{error}</Alert> : null}
      <div ref={box} data-testid="console-terminal" className={`h-96 overflow-hidden rounded-md bg-stone-900 p-2 ${status === "idle" && !term.current ? "hidden" : ""}`} />
      <p className="text-xs text-stone-500">
        {kind === "sol" ? "IPMI Serial-over-LAN. " : "The machine's serial port. "}
        Opening the console is recorded in the audit log. Others with access to this machine may be watching the same console.
      </p>
    </div>
  );
}
