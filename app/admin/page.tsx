import { redirect } from "next/navigation";
import { requirePageAdmin } from "@/lib/auth/guard";

export default async function AdminIndex() {
  await requirePageAdmin("/admin");
  redirect("/admin/hosts");
}
