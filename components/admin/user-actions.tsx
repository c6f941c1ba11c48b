"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "../ui/button";
import { callApi } from "../ui/use-api";

export type AdminUserRow = { id: string; email: string; role: "user" | "admin"; status: string };

export function UserActions({ user, isSelf }: { user: AdminUserRow; isSelf: boolean }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const patch = async (body: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await callApi(`/api/v1/users/${user.id}`, "PATCH", body);
      router.refresh();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex flex-wrap justify-end gap-2">
        <label className="sr-only" htmlFor={`role-${user.id}`}>
          Role of {user.email}
        </label>
        <select
          id={`role-${user.id}`}
          value={user.role}
          disabled={busy}
          onChange={(e) => patch({ role: e.target.value })}
          className="rounded-md border border-stone-300 bg-white px-2 py-1 text-sm"
        >
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
        {user.status === "pending_approval" ? (
          <Button variant="secondary" disabled={busy} onClick={() => patch({ approved: true })}>
            Approve
          </Button>
        ) : null}
        {user.status === "disabled" ? (
          <Button variant="secondary" disabled={busy} onClick={() => patch({ disabled: false })} aria-label={`Enable ${user.email}`}>
            Enable
          </Button>
        ) : (
          <Button variant="danger" disabled={busy || isSelf} onClick={() => patch({ disabled: true })} aria-label={`Disable ${user.email}`}>
            Disable
          </Button>
        )}
      </div>
      {error ? (
        <p role="alert" className="max-w-xs text-right text-xs text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}
