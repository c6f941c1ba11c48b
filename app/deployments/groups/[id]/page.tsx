// /deployments/groups/[id] — a deployment group: every host's run on one page, for the lease's holder and administrators
import Link from "next/link";
import { notFound } from "next/navigation";
import { GroupProgress } from "@/components/deployments/group-progress";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getDeploymentGroup } from "@/lib/deployments/groups";
import { isAppError } from "@/lib/errors";
import { uuidSchema } from "@/lib/validation/common";

export const metadata = { title: "Deployment group" };
export const dynamic = "force-dynamic";

export default async function DeploymentGroupPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { user } = await requirePageUser(`/deployments/groups/${id}`);
  if (!uuidSchema.safeParse(id).success) notFound();
  let group;
  try {
    group = await getDeploymentGroup(getAppDb(), actorOf(user, null), id);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
  return (
    <div className="mx-auto max-w-6xl space-y-4 px-4 py-8">
      <nav className="text-sm text-stone-500">
        <Link href="/" className="hover:underline">
          Dashboard
        </Link>{" "}
        / deployment group
      </nav>
      <GroupProgress initial={group} />
    </div>
  );
}
