// Contracts of a host's hardware facts as commissioning records them (docs/commissioning.md):
// the versions the host page and GET /api/v1/hosts/{id}/facts show.
import { z } from "zod";
import { HOST_FACT_SOURCES } from "@/db/schema/enums";
import { timestampSchema } from "./common";

export const factChangeSchema = z.object({
  kind: z.enum(["added", "removed", "changed"]),
  what: z.string().describe("`memory (MB)`, `disk sdb`, `NIC 52:54:00:…`, `DMI serial`, `firmware`, `BMC address`…"),
  before: z.string().nullable(),
  after: z.string().nullable(),
});

export const factVersionViewSchema = z.object({
  version: z.number().int(),
  source: z.enum(HOST_FACT_SOURCES).describe("commission: a commissioning run; deploy: the deploy agent's inventory during another run (kept only when something changed)."),
  deploymentId: z.string().nullable(),
  recordedAt: timestampSchema,
  cpuCores: z.number().int().nullable(),
  memoryMb: z.number().int().nullable(),
  changes: z.array(factChangeSchema).nullable().describe("What changed since the version before; null for the first."),
});

export const factVersionListResponseSchema = z.object({ data: z.array(factVersionViewSchema) });
