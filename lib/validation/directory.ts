// The Directory admin page's contracts (docs/lab-access.md): what the API answers.
import { z } from "zod";
import { DIRECTORY_ENTRY_DESIRED_STATES, DIRECTORY_ENTRY_ORIGINS } from "@/db/schema/enums";

export const directoryStatusSchema = z.object({
  configured: z.boolean().describe("False when KILN_DIRECTORY_URL is not set: Kiln writes no entries."),
  url: z.string().nullable(),
  peopleDn: z.string().nullable(),
  bindOk: z.boolean().describe("Kiln's bind DN and password were accepted."),
  peopleDnOk: z.boolean().describe("The people OU exists."),
  error: z.string().nullable().describe("Why the check failed, as a sentence."),
});

export const directoryEntryViewSchema = z.object({
  id: z.string().uuid(),
  uid: z.string(),
  dn: z.string(),
  uidNumber: z.number().int(),
  gidNumber: z.number().int(),
  userId: z.string().uuid().nullable(),
  email: z.string().nullable().describe("The account's email; null once the account is deleted (the entry is being removed)."),
  origin: z.enum(DIRECTORY_ENTRY_ORIGINS),
  desired: z.enum(DIRECTORY_ENTRY_DESIRED_STATES),
  synced: z.boolean().describe("The directory holds the latest change."),
  syncedAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  refused: z.boolean().describe("An entry Kiln did not create is at this dn: an administrator may link it."),
});
export type DirectoryEntryView = z.infer<typeof directoryEntryViewSchema>;

export const directoryEntryListResponseSchema = z.object({ entries: z.array(directoryEntryViewSchema) });
export const directoryResyncResponseSchema = z.object({
  marked: z.number().int().describe("Entries marked for writing again (the new ones included)."),
  added: z.number().int().describe("Entries added for active local accounts that had none (made before the directory was configured)."),
});
