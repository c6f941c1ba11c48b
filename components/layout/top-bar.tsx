import Link from "next/link";
import { SignOutButton } from "./sign-out-button";

/** labAccess: an active account on a Kiln with WireGuard or OpenVPN configured. */
export type TopBarUser = { name: string; email: string; role: "user" | "admin"; labAccess?: boolean };

export function TopBar({ user }: { user: TopBarUser | null }) {
  return (
    <header className="border-b border-stone-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex h-14 max-w-6xl items-center gap-6 px-4">
        <Link href="/" className="flex items-center gap-2 font-semibold text-stone-900">
          <span aria-hidden className="inline-block h-6 w-6 rounded bg-gradient-to-br from-kiln-500 to-kiln-700" />
          Kiln
        </Link>
        {user ? (
          <>
            <Link href="/" className="text-sm text-stone-700 hover:text-stone-900">
              Dashboard
            </Link>
            <Link href="/reservations" className="text-sm text-stone-700 hover:text-stone-900">
              Reservations
            </Link>
            <Link href="/images" className="text-sm text-stone-700 hover:text-stone-900">
              Images
            </Link>
            <Link href="/templates" className="text-sm text-stone-700 hover:text-stone-900">
              Templates
            </Link>
            {user.labAccess ? (
              <Link href="/access" className="text-sm text-stone-700 hover:text-stone-900">
                Lab access
              </Link>
            ) : null}
            {user.role === "admin" ? (
              <>
                <Link href="/admin/hosts" className="text-sm text-stone-700 hover:text-stone-900">
                  Hosts
                </Link>
                <Link href="/admin" className="text-sm text-stone-700 hover:text-stone-900">
                  Admin
                </Link>
              </>
            ) : null}
            <details className="relative ml-auto">
              <summary className="flex cursor-pointer list-none items-center gap-2 rounded-md px-2 py-1 text-sm text-stone-800 hover:bg-stone-100">
                <span aria-hidden className="grid h-7 w-7 place-items-center rounded-full bg-kiln-100 text-xs font-semibold text-kiln-700">
                  {(user.name || user.email).slice(0, 1).toUpperCase()}
                </span>
                <span data-testid="user-menu">{user.name || user.email}</span>
              </summary>
              <div className="absolute right-0 z-10 mt-2 w-56 overflow-hidden rounded-md border border-stone-200 bg-white shadow-lg">
                <p className="truncate border-b border-stone-100 px-4 py-2 text-xs text-stone-500">{user.email}</p>
                <Link href="/profile" className="block px-4 py-2 text-sm text-stone-700 hover:bg-stone-100">
                  Profile and keys
                </Link>
                <SignOutButton />
              </div>
            </details>
          </>
        ) : (
          <div className="ml-auto flex gap-4 text-sm">
            <Link href="/signin" className="text-stone-700 hover:text-stone-900">
              Sign in
            </Link>
            <Link href="/register" className="text-stone-700 hover:text-stone-900">
              Register
            </Link>
          </div>
        )}
      </nav>
    </header>
  );
}
