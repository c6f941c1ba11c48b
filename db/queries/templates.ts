import { and, asc, desc, eq, inArray, isNotNull, or, sql, type SQL } from "drizzle-orm";
import { historyEmailOf } from "./users";
import type { DbOrTx } from "../client";
import { projectMembers, templates, templateVersions, users, type TemplateRow } from "../schema";

export async function getTemplateRow(db: DbOrTx, id: string): Promise<TemplateRow | undefined> {
  const [row] = await db.select().from(templates).where(eq(templates.id, id)).limit(1);
  return row;
}

export async function getTemplateByBuiltinKey(db: DbOrTx, key: string): Promise<TemplateRow | undefined> {
  const [row] = await db.select().from(templates).where(eq(templates.builtinKey, key)).limit(1);
  return row;
}

export async function insertTemplate(db: DbOrTx, values: typeof templates.$inferInsert): Promise<TemplateRow> {
  const [row] = await db.insert(templates).values(values).returning();
  return row!;
}

export async function updateTemplateRow(db: DbOrTx, id: string, values: Partial<typeof templates.$inferInsert>) {
  const [row] = await db.update(templates).set({ ...values, updatedAt: new Date() }).where(eq(templates.id, id)).returning();
  return row;
}

export async function deleteTemplateRow(db: DbOrTx, id: string): Promise<boolean> {
  return (await db.delete(templates).where(eq(templates.id, id)).returning({ id: templates.id })).length > 0;
}

export async function insertTemplateVersion(db: DbOrTx, values: typeof templateVersions.$inferInsert) {
  const [row] = await db.insert(templateVersions).values(values).returning();
  return row!;
}

export async function getTemplateVersion(db: DbOrTx, params: { templateId: string; version: number }) {
  const [row] = await db
    .select()
    .from(templateVersions)
    .where(and(eq(templateVersions.templateId, params.templateId), eq(templateVersions.version, params.version)))
    .limit(1);
  return row;
}

export async function listTemplateVersions(db: DbOrTx, templateId: string) {
  return db
    .select({ version: templateVersions.version, message: templateVersions.message, createdAt: templateVersions.createdAt, authorEmail: historyEmailOf<string | null>() })
    .from(templateVersions)
    .leftJoin(users, eq(users.id, templateVersions.createdByUserId))
    .where(eq(templateVersions.templateId, templateId))
    .orderBy(desc(templateVersions.version));
}

/** Templates a user may read: public ones, their own, and their projects' shared ones (admins: all). */
export async function listVisibleTemplates(db: DbOrTx, params: { userId: string | null; isAdmin: boolean; kind?: "system" | "unattended" }) {
  const conds: SQL[] = [];
  if (!params.isAdmin) {
    conds.push(
      or(
        eq(templates.visibility, "public"),
        params.userId ? eq(templates.ownerUserId, params.userId) : sql`false`,
        params.userId
          ? and(
              eq(templates.visibility, "project"),
              isNotNull(templates.projectId),
              inArray(templates.projectId, db.select({ id: projectMembers.projectId }).from(projectMembers).where(eq(projectMembers.userId, params.userId))),
            )
          : sql`false`,
      )!,
    );
  }
  if (params.kind) conds.push(eq(templates.kind, params.kind));
  return db
    .select({ template: templates, ownerEmail: historyEmailOf<string | null>(), variables: templateVersions.variables, postInstall: templateVersions.postInstall })
    .from(templates)
    .leftJoin(users, eq(users.id, templates.ownerUserId))
    .leftJoin(templateVersions, and(eq(templateVersions.templateId, templates.id), eq(templateVersions.version, templates.latestVersion)))
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(sql`${templates.builtinKey} is null`, asc(templates.kind), asc(templates.name));
}
