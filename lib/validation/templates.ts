import { z } from "zod";
import { TEMPLATE_FORMATS, TEMPLATE_KINDS, TEMPLATE_VISIBILITIES } from "@/db/schema/enums";
import { INT32_MAX, positiveInt32Schema, recordSchema, RUN_ACTIONS, RUN_STATES, timestampSchema, uuidSchema } from "./common";
import { macSchema } from "./inventory";
import { POST_INSTALL_KINDS } from "@/boot/post-install";
import { postInstallSchema } from "./post-install";


export const templateVariableSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, "Variable names use lower-case letters, digits and _"),
  description: z.string().max(200).optional(),
  default: z.string().max(1000).optional(),
});

const source = z.string().max(512 * 1024, "A template is at most 512 KiB.");

export const templateCreateSchema = z
  .object({
    name: z.string().trim().min(1, "Give the template a name.").max(100),
    description: z.string().max(2000).default(""),
    kind: z.enum(TEMPLATE_KINDS),
    format: z.enum(TEMPLATE_FORMATS),
    visibility: z.enum(TEMPLATE_VISIBILITIES).default("private"),
    projectId: uuidSchema.nullable().optional(),
    source,
    variables: z.array(templateVariableSchema).max(50).default([]),
    /** An unattended template's default post-install repository (docs/post-install.md). */
    postInstall: postInstallSchema.nullable().optional(),
    message: z.string().max(500).default(""),
  })
  .refine((t) => !t.postInstall || t.kind === "unattended", { path: ["postInstall"], message: "Only an unattended template runs post-install configuration (the installed system does)." })
  .refine((t) => (t.kind === "system") === (t.format === "ipxe"), { path: ["format"], message: "System templates are iPXE scripts; unattended templates are preseed, kickstart, cloud-init or script." })
  .refine((t) => t.visibility !== "project" || t.projectId, { path: ["projectId"], message: "Choose the project to share the template with." });

export const templateVersionCreateSchema = z.object({
  source,
  variables: z.array(templateVariableSchema).max(50).optional(),
  /** Left out: the previous version's; null: none. */
  postInstall: postInstallSchema.nullable().optional(),
  message: z.string().max(500).default(""),
});

export const templateUpdateSchema = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  description: z.string().max(2000).optional(),
  visibility: z.enum(TEMPLATE_VISIBILITIES).optional(),
  projectId: uuidSchema.nullable().optional(),
});

/** Vars are a JSON object whose values are plain JSON; 64 KiB at most. */
export const varsSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "Variable names are letters, digits and _ (not starting with a digit)"), z.json())
  .refine((v) => JSON.stringify(v).length <= 64 * 1024, "Vars are at most 64 KiB of JSON.");

export const previewSchema = z
  .object({
    hostId: uuidSchema,
    templateId: uuidSchema.optional(),
    version: positiveInt32Schema.optional(),
    // Unsaved text from the editor.
    source: source.optional(),
    format: z.enum(TEMPLATE_FORMATS).optional(),
    vars: varsSchema.optional(),
  })
  .refine((p) => p.templateId || p.source !== undefined, { message: "Preview a saved template (templateId) or editor text (source).", path: ["source"] });

export const bootSettingsSchema = z.object({
  systemTemplateId: uuidSchema.nullable().optional(),
  unattendedTemplateId: uuidSchema.nullable().optional(),
  vars: varsSchema.optional(),
  preferredMac: macSchema.nullable().optional(),
});

export const hostVarsSchema = z.object({ vars: varsSchema });

export const templateListQuerySchema = z.object({ kind: z.enum(TEMPLATE_KINDS).optional() });
export const templateGetQuerySchema = z.object({ version: z.coerce.number().int().min(1).max(INT32_MAX).optional() });
export const templateDiffQuerySchema = z.object({ from: z.coerce.number().int().min(1).max(INT32_MAX), to: z.coerce.number().int().min(1).max(INT32_MAX) });

// Responses (see ./common.ts).
const templateFields = {
  id: z.string(),
  builtinKey: z.string().nullable(),
  name: z.string(),
  description: z.string(),
  kind: z.enum(TEMPLATE_KINDS),
  format: z.enum(TEMPLATE_FORMATS),
  ownerUserId: z.string().nullable(),
  projectId: z.string().nullable(),
  visibility: z.enum(TEMPLATE_VISIBILITIES),
  latestVersion: z.number().int(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
};
const variableViewSchema = z.object({ name: z.string(), description: z.string().optional(), default: z.string().optional() });
export const templateViewSchema = z.object(templateFields);
const postInstallViewSchema = z
  .object({ gitUrl: z.string(), ref: z.string(), path: z.string(), kind: z.enum(POST_INSTALL_KINDS) })
  .nullable()
  .describe("The version's default post-install repository (docs/post-install.md), or null.");
export const templateListResponseSchema = z.object({
  data: z.array(z.object({ ...templateFields, ownerEmail: z.string().nullable(), variables: z.array(variableViewSchema), postInstall: postInstallViewSchema, isBuiltin: z.boolean(), canEdit: z.boolean() })),
});
export const templateDetailSchema = z.object({
  ...templateFields,
  isBuiltin: z.boolean(),
  canEdit: z.boolean(),
  version: z.number().int().describe("The version whose source this is."),
  source: z.string(),
  variables: z.array(variableViewSchema),
  postInstall: postInstallViewSchema,
  versions: z.array(z.object({ version: z.number().int(), message: z.string(), createdAt: timestampSchema, authorEmail: z.string().nullable() })),
});
export const templateDiffResponseSchema = z.object({ diff: z.string().describe("A unified diff.") });
export const templateVersionResponseSchema = z.object({ id: z.string(), version: z.number().int() });
/** One name a template can use for the preview host, with its printed value (boot/context.ts listContextVariables). */
const contextVariableSchema = z.object({ name: z.string(), value: z.string(), type: z.enum(["text", "number", "boolean", "none", "list", "dict"]) });
export const previewResponseSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), output: z.string(), warnings: z.array(z.string()), bytes: z.number().int(), variables: z.array(contextVariableSchema) }),
  z.object({
    ok: z.literal(false),
    error: z.object({ message: z.string(), line: z.number().int(), column: z.number().int(), kind: z.string(), suggestions: z.array(z.string()).optional(), missing: z.string().nullable().optional() }),
    variables: z.array(contextVariableSchema),
  }),
]);

const nextBootSummarySchema = z.union([
  z.object({ mode: z.literal("local"), summary: z.string() }),
  z.object({ mode: z.literal("deployment"), deploymentId: z.string(), state: z.enum(RUN_STATES), summary: z.string() }),
]);
export const bootSettingsResponseSchema = z.object({
  hostId: z.string(),
  systemTemplateId: z.string().nullable(),
  unattendedTemplateId: z.string().nullable(),
  vars: recordSchema,
  preferredMac: z.string().nullable(),
  hostVars: recordSchema,
  nextBoot: nextBootSummarySchema,
  deployments: z.array(
    z.object({ id: z.string(), action: z.enum(RUN_ACTIONS), state: z.enum(RUN_STATES), createdAt: timestampSchema, finishedAt: timestampSchema.nullable(), failureReason: z.string().nullable() }),
  ),
});
export const hostVarsResponseSchema = z.object({ hostId: z.string(), vars: recordSchema });
export const reinstallMarkResponseSchema = z.object({ deploymentId: z.string(), nextBoot: nextBootSummarySchema });
export const reinstallUndoResponseSchema = z.object({ nextBoot: nextBootSummarySchema });
