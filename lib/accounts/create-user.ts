import { createUserIfAbsent } from "@/db/queries/users";
import { z } from "zod";
import type { Db } from "../db";
import { AppError } from "../errors";
import { SYSTEM } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { hashPassword } from "../auth/password";
import { hashPasswordForDirectory, markDirectoryEntry, requestDirectorySync } from "../directory/mark";
import { assertPasswordAllowed } from "../auth/password-policy";
import { emailSchema, passwordSchema } from "../validation/accounts";
import { parseInput } from "../validation/parse";
import { toPublicUser } from "../users/user-view";

export const userCreateSchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: z.string().trim().max(100).default(""),
  admin: z.boolean().default(false),
});

/** Creates a ready-to-use account (verified and approved), as an admin or the CLI does. */
export async function createUserAsAdmin(db: Db, input: unknown) {
  const data = parseInput(userCreateSchema, input);
  await assertPasswordAllowed("password", data.password, { email: data.email, name: data.name });
  const now = new Date();
  const passwordHash = await hashPassword(data.password);
  const user = await db.transaction(async (tx) => {
    const created = await createUserIfAbsent(tx, {
      email: data.email,
      name: data.name,
      passwordHash,
      directoryPasswordHash: hashPasswordForDirectory(data.password),
      role: data.admin ? "admin" : "user",
      emailVerifiedAt: now,
      approvedAt: now,
    });
    if (created) {
      await recordAudit(tx, SYSTEM, { action: "user.create", targetType: "user", targetId: created.id, summary: `created ${created.role} ${created.email}` });
      await markDirectoryEntry(tx, created);
    }
    return created;
  });
  if (user) await requestDirectorySync();
  if (!user) throw AppError.field("email", `An account with the email ${data.email} already exists.`);
  return toPublicUser(user);
}
