"use client";
import { callApi } from "../ui/use-api";

export function SignOutButton() {
  return (
    <button
      type="button"
      className="block w-full px-4 py-2 text-left text-sm text-stone-700 hover:bg-stone-100"
      onClick={async () => {
        await callApi("/api/session", "DELETE").catch(() => {});
        window.location.assign("/signin");
      }}
    >
      Sign out
    </button>
  );
}
