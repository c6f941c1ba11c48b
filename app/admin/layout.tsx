import type { ReactNode } from "react";
import { AdminNav } from "@/components/admin/admin-nav";
import { BootUrlBanner } from "@/components/admin/boot-url-banner";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getBootUrlStatus } from "@/lib/sites/boot-url-status";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  await requirePageAdmin("/admin");
  const { warning } = await getBootUrlStatus(getAppDb());
  return (
    <div className="mx-auto flex max-w-6xl gap-8 px-4 py-8">
      <AdminNav />
      <div className="min-w-0 flex-1 space-y-4">
        {warning ? <BootUrlBanner warning={warning} /> : null}
        <div>{children}</div>
      </div>
    </div>
  );
}
