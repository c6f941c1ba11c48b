import { pingDatabase } from "@/db/queries/health";
import { getAppDb } from "../db";

export async function checkHealth(): Promise<{ ok: boolean; database: "up" | "down" }> {
  try {
    await pingDatabase(getAppDb());
    return { ok: true, database: "up" };
  } catch {
    return { ok: false, database: "down" };
  }
}
