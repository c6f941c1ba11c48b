// Wake-on-LAN: a UDP "magic packet" — 6 × 0xFF then the MAC 16 times — to a broadcast
// address. It can only switch machines on; the OS (or a BMC) has to switch them off.
import dgram from "node:dgram";
import { normalizeMac } from "../validation/mac";
import { PowerError, type PowerAction, type PowerContext, type PowerDriver, type PowerResult } from "./types";

export function magicPacket(mac: string): Buffer {
  const norm = normalizeMac(mac);
  if (!norm) throw new PowerError(`“${mac}” is not a MAC address.`);
  const bytes = Buffer.from(norm.replace(/:/g, ""), "hex");
  return Buffer.concat([Buffer.alloc(6, 0xff), ...Array.from({ length: 16 }, () => bytes)]);
}

export async function sendMagicPacket(mac: string, address: string, port: number): Promise<void> {
  const packet = magicPacket(mac);
  const socket = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(() => {
        socket.setBroadcast(true);
        socket.send(packet, port, address, (err) => (err ? reject(err) : resolve()));
      });
    });
  } catch (e) {
    throw new PowerError(`The Wake-on-LAN packet could not be sent to ${address}:${port}: ${(e as Error).message}`);
  } finally {
    socket.close();
  }
}

export const wolDriver: PowerDriver = {
  name: "wol",
  canPowerOff: false,
  reportsState: false,
  noStateReason: "Wake-on-LAN can only wake a machine; it cannot tell whether the machine is on.",
  async run(action: PowerAction, ctx: PowerContext): Promise<PowerResult> {
    if (action === "status") return { state: "unknown", message: "Wake-on-LAN cannot tell whether a machine is on." };
    if (action === "off") throw new PowerError("Wake-on-LAN can only switch machines on. Shut the machine down from its OS, or give it an IPMI driver.");
    const mac = String(ctx.params.mac ?? ctx.host.pxeMac ?? "");
    const address = String(ctx.params.broadcast ?? "255.255.255.255");
    const port = Number(ctx.params.port ?? 9);
    await sendMagicPacket(mac, address, port);
    ctx.log(`sent a Wake-on-LAN packet for ${mac} to ${address}:${port}`);
    return {
      state: "unknown",
      message: action === "cycle" ? `Sent Wake-on-LAN to ${mac}; a running machine is not restarted by it.` : `Sent Wake-on-LAN to ${mac}.`,
    };
  },
};
