// WireGuard devices (issue 17): what a person sends to add one, and what Kiln answers.
import { z } from "zod";
import { VPN_KEY_ORIGINS } from "@/db/schema/enums";
import { timestampSchema } from "./common";

export const vpnDeviceNameSchema = z
  .string()
  .trim()
  .min(1, "Give the device a name, such as laptop or phone.")
  // The file is kiln-<name>.conf and wg-quick names the interface after it: at most 15 characters.
  .max(10, "Use at most 10 characters: the file is kiln-<name>.conf, and wg-quick allows 15 characters for the connection's name.")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Use letters, digits, dots, dashes and underscores, starting with a letter or digit.");

/**
 * Either a public key (made in the browser, whose private half never left it, or pasted from
 * `wg pubkey`), or `generate: "server"`: Kiln makes the pair and shows the private key once.
 */
export const vpnDeviceCreateSchema = z
  .object({
    name: vpnDeviceNameSchema,
    publicKey: z.string().max(200, "A WireGuard key is 44 characters.").optional().describe("Base64 of the 32-byte public key, as `wg pubkey` prints it."),
    keyOrigin: z.enum(["browser", "pasted"]).optional().describe("With publicKey — browser: made by Kiln's page in the person's browser; pasted (default): from elsewhere."),
    generate: z.literal("server").optional().describe("Instead of publicKey: Kiln makes the key pair; the private key is in this answer only and is never stored."),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.generate && v.publicKey !== undefined) {
      ctx.addIssue({ code: "custom", path: ["publicKey"], message: "Send either a public key or generate: \"server\", not both." });
    } else if (!v.generate && v.publicKey === undefined) {
      ctx.addIssue({ code: "custom", path: ["publicKey"], message: "Enter the device's WireGuard public key, or let Kiln make the key pair (generate: \"server\")." });
    }
  });
export type VpnDeviceCreate = z.infer<typeof vpnDeviceCreateSchema>;

export const vpnDeviceViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  publicKey: z.string(),
  address: z.string().describe("The device's tunnel address (IPv4)."),
  keyOrigin: z.enum(VPN_KEY_ORIGINS),
  createdAt: timestampSchema,
  revokedAt: timestampSchema.nullable(),
});

export const vpnDeviceAdminViewSchema = vpnDeviceViewSchema.extend({
  userId: z.string(),
  ownerEmail: z.string(),
  ownerName: z.string(),
});

export const vpnDeviceCreatedSchema = vpnDeviceViewSchema.extend({
  config: z.string().describe("The wg-quick file. With `generate: \"server\"` it holds the private key (this once); otherwise a placeholder line for it."),
  privateKey: z.string().nullable().describe("Server-made keys only, this once: Kiln does not keep it."),
});

export const vpnDeviceListResponseSchema = z.object({ data: z.array(vpnDeviceViewSchema) });
export const vpnDeviceAdminListResponseSchema = z.object({ data: z.array(vpnDeviceAdminViewSchema) });
