import Link from "next/link";
import type { ReactNode } from "react";
import { requirePageAdmin } from "@/lib/auth/guard";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  await requirePageAdmin("/admin");
  return (
    <div className="mx-auto flex max-w-6xl gap-8 px-4 py-8">
      <nav aria-label="Admin" className="w-40 shrink-0 space-y-1 text-sm">
        <p className="px-2 pb-2 text-xs font-semibold uppercase tracking-wide text-stone-500">Admin</p>
        <Link href="/admin/users" className="block rounded px-2 py-1.5 text-stone-700 hover:bg-stone-100">
          Users
        </Link>
        <Link href="/admin/outbox" className="block rounded px-2 py-1.5 text-stone-700 hover:bg-stone-100">
          Outbox
        </Link>
      </nav>
      <div className="min-w-0 flex-1">{children}</div>
    </div>
  );
}
