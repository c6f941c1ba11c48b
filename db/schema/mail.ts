import { index, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { MAIL_STATUSES } from "./enums";

export const mailStatus = pgEnum("mail_status", MAIL_STATUSES);

// Every mail Kiln sends or would send. Without SMTP it is the only delivery: admins
// read it on the Outbox page, so a newcomer can still follow a verification link.
export const outbox = pgTable(
  "outbox",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    to: text("to").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    status: mailStatus("status").notNull(),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("outbox_created_at_idx").on(t.createdAt)],
);

export type OutboxRow = typeof outbox.$inferSelect;
