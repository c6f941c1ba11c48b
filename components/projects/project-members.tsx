"use client";
// Members of a project. Admins and the project's leaders add and remove members;
// everyone else sees the list.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { ApiForm } from "../ui/api-form";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Field, SelectField } from "../ui/field";
import { formatDate } from "../ui/format";
import { callApi, useApi } from "../ui/use-api";

export type MemberView = { userId: string; email: string; name: string; role: "member" | "leader"; addedAt: string };

export function ProjectMembers({ projectId, members, canManage, selfId }: { projectId: string; members: MemberView[]; canManage: boolean; selfId: string }) {
  const router = useRouter();
  const [removeError, setRemoveError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const remove = async (m: MemberView) => {
    setBusy(m.userId);
    setRemoveError(null);
    try {
      await callApi(`/api/v1/projects/${projectId}/members/${m.userId}`, "DELETE");
      router.refresh();
    } catch (e) {
      setRemoveError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="space-y-4">
      {removeError ? <Alert tone="error">{removeError}</Alert> : null}
      <ul className="divide-y divide-stone-100 rounded-md border border-stone-200">
        {members.map((m) => (
          <li key={m.userId} data-testid={`member-${m.email}`} className="flex flex-wrap items-center gap-3 px-3 py-2 text-sm">
            <div className="min-w-0 flex-1">
              <p className="font-medium">
                {m.name || m.email}
                {m.userId === selfId ? <span className="font-normal text-stone-500"> (you)</span> : null}
              </p>
              <p className="text-xs text-stone-500">
                {m.email} · since {formatDate(m.addedAt)}
              </p>
            </div>
            <Badge tone={m.role === "leader" ? "kiln" : "stone"}>{m.role}</Badge>
            {canManage ? (
              <Button variant="quietDanger" className="py-1" disabled={busy === m.userId} onClick={() => remove(m)} aria-label={`Remove ${m.email}`}>
                Remove
              </Button>
            ) : null}
          </li>
        ))}
        {members.length === 0 ? <li className="px-3 py-6 text-center text-sm text-stone-500">No members yet.</li> : null}
      </ul>
      {canManage ? <AddMemberForm projectId={projectId} /> : null}
    </div>
  );
}

function AddMemberForm({ projectId }: { projectId: string }) {
  const router = useRouter();
  const api = useApi<{ email: string; role: string }, { email: string; role: string }>(`/api/v1/projects/${projectId}/members`, "POST", { fields: ["email", "role"] });
  return (
    <ApiForm
      formError={api.formError}
      className="space-y-3 rounded-md bg-stone-50 p-3"
      onValues={(v, form) =>
        api.mutate(
          { email: v.email ?? "", role: v.role ?? "member" },
          {
            onSuccess: () => {
              form.reset();
              router.refresh();
            },
          },
        )
      }
    >
      {api.isSuccess && api.data ? (
        <Alert tone="success">
          Added {api.data.email} as {api.data.role}.
        </Alert>
      ) : null}
      <Field name="email" label="Add a member by email" type="email" autoComplete="off" placeholder="colleague@lab.example" error={api.errorsOf("email")} />
      <div className="flex items-end gap-3">
        <div className="w-40">
          <SelectField name="role" label="Role" defaultValue="member" error={api.errorsOf("role")}>
            <option value="member">member</option>
            <option value="leader">leader</option>
          </SelectField>
        </div>
        <Button type="submit" variant="secondary" disabled={api.isPending}>
          Add member
        </Button>
      </div>
    </ApiForm>
  );
}
