"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/admin/hosts", label: "Hosts" },
  { href: "/admin/pools", label: "Pools" },
  { href: "/admin/projects", label: "Projects" },
  { href: "/admin/leases", label: "Leases" },
  { href: "/admin/sites", label: "Sites & boot servers" },
  { href: "/admin/network-boot", label: "Network boot" },
  { href: "/admin/audit", label: "Audit log" },
  { href: "/admin/users", label: "Users" },
  { href: "/admin/directory", label: "Directory" },
  { href: "/admin/vpn", label: "VPN devices" },
  { href: "/admin/outbox", label: "Outbox" },
];

export function AdminNav() {
  const path = usePathname();
  return (
    <nav aria-label="Admin" className="w-40 shrink-0 space-y-1 text-sm">
      <p className="px-2 pb-2 text-xs font-semibold uppercase tracking-wide text-stone-500">Admin</p>
      {LINKS.map((l) => {
        const current = path === l.href || path.startsWith(`${l.href}/`);
        return (
          <Link
            key={l.href}
            href={l.href}
            aria-current={current ? "page" : undefined}
            className={`block rounded px-2 py-1.5 ${current ? "bg-stone-200/70 font-medium text-stone-900" : "text-stone-700 hover:bg-stone-100"}`}
          >
            {l.label}
          </Link>
        );
      })}
    </nav>
  );
}
