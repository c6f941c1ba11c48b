// PUT /api/v1/hosts/:id/boot through the real route handler: the answer is the settings as
// saved, and a GET right after says the same.
import { callRoute } from "@/test/harness/route-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { listTemplates, syncBuiltinTemplates } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser } from "@/test/harness/fixtures";
import * as hostBoot from "./route";

const t = await useTestDb();
let hostId: string;
let token: string;
let templates: { sys: string; un: string };

beforeAll(async () => {
  await syncBuiltinTemplates(t.db);
  const { user: admin } = await createActiveUser(t.db, { admin: true });
  const { user: rita } = await createActiveUser(t.db, { name: "Rita" });
  const A = actorOf(admin, null);
  const pool = await createPool(t.db, A, { name: `boot-put-${Date.now()}` });
  const host = await createHost(t.db, A, { name: `boot-put-${Date.now()}`, poolId: pool.id, interfaces: [{ mac: "52:54:00:b0:07:01" }, { mac: "52:54:00:b0:07:02" }] });
  const project = await createProject(t.db, A, { name: `boot-put-${Date.now()}` });
  await addProjectMember(t.db, A, project.id, { email: rita.email });
  await createLease(t.db, A, { hostIds: [host.id], userId: rita.id, projectId: project.id });
  hostId = host.id;
  token = (await createApiToken(t.db, rita.id, { name: "boot" })).token;
  const all = await listTemplates(t.db, actorOf(rita, null));
  templates = { sys: all.find((x) => x.builtinKey === "debian-12-netinstall")!.id, un: all.find((x) => x.builtinKey === "debian-12-preseed")!.id };
});

afterAll(() => stopJobSender());

type Settings = { systemTemplateId: string | null; unattendedTemplateId: string | null; vars: Record<string, unknown>; preferredMac: string | null };

describe("PUT /api/v1/hosts/:id/boot", () => {
  it("answers the settings as saved, on the first save and on every change after it", async () => {
    const put = (body: unknown) => callRoute<Settings>(hostBoot.PUT, "PUT", `/api/v1/hosts/${hostId}/boot`, { token, params: { id: hostId }, body });
    const get = () => callRoute<Settings>(hostBoot.GET, "GET", `/api/v1/hosts/${hostId}/boot`, { token, params: { id: hostId } });

    // First save: before it there were no settings at all, which the old answer showed.
    const first = await put({ systemTemplateId: templates.sys, vars: { disk: "vda" } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ systemTemplateId: templates.sys, unattendedTemplateId: null, vars: { disk: "vda" }, preferredMac: null });

    // A change: the answer has the new values, and the fields not sent are kept.
    const second = await put({ unattendedTemplateId: templates.un, vars: { disk: "sda", note: "second" }, preferredMac: "52:54:00:b0:07:02" });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ systemTemplateId: templates.sys, unattendedTemplateId: templates.un, vars: { disk: "sda", note: "second" }, preferredMac: "52:54:00:b0:07:02" });

    // Clearing a field answers it cleared.
    const third = await put({ unattendedTemplateId: null });
    expect(third.body).toMatchObject({ systemTemplateId: templates.sys, unattendedTemplateId: null, vars: { disk: "sda", note: "second" } });

    // The answer is what a later read returns.
    const read = await get();
    expect(read.status).toBe(200);
    const pick = (s: Settings) => ({ systemTemplateId: s.systemTemplateId, unattendedTemplateId: s.unattendedTemplateId, vars: s.vars, preferredMac: s.preferredMac });
    expect(pick(read.body)).toEqual(pick(third.body));
  });
});
