// Host and image architectures through the API (issue 18): admins set a host's arch, image
// owners set a version's, and every way of putting a version on a host of another architecture
// is a 400 that names both — a deploy, and a reservation that deploys at its start (named hosts
// refused by name, a pool's hosts chosen among those that fit).
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDeployments } from "@/lib/deployments/views";
import { createApiToken } from "@/lib/auth/api-tokens";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createReservation } from "@/lib/reservations/reservations";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { as, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { callRoute } from "@/test/harness/route-handler";
import { updateHost } from "@/lib/hosts/hosts";
import * as deployments from "./hosts/[id]/deployments/route";
import * as hostById from "./hosts/[id]/route";
import * as versionById from "./images/[id]/versions/[version]/route";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-arch-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

type ErrorBody = { error: { code: string; message: string; details?: { fieldErrors?: Record<string, string[]> } } };

let setup: ProvisioningSetup;
let adminToken: string;
let holderToken: string;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "arch", macByte: 0xa6 });
  adminToken = (await createApiToken(t.db, setup.admin.user!.id, { name: "arch" })).token;
  holderToken = (await createApiToken(t.db, setup.holder.user!.id, { name: "arch" })).token;
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe("architecture", () => {
  it("an admin sets a host's arch; a holder may not; a made-up arch is a 400", async () => {
    const { hostId } = await setup.heldHost();
    const bad = await callRoute<ErrorBody>(hostById.PATCH, "PATCH", `/api/v1/hosts/${hostId}`, { token: adminToken, params: { id: hostId }, body: { arch: "sparc" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details?.fieldErrors?.arch?.[0]).toMatch(/x86_64.*arm64/);
    const denied = await callRoute<ErrorBody>(hostById.PATCH, "PATCH", `/api/v1/hosts/${hostId}`, { token: holderToken, params: { id: hostId }, body: { arch: "arm64" } });
    expect(denied.status).toBe(403);
    const okRes = await callRoute<{ arch: string; piSerial: string | null }>(hostById.PATCH, "PATCH", `/api/v1/hosts/${hostId}`, { token: adminToken, params: { id: hostId }, body: { arch: "arm64" } });
    expect(okRes.status).toBe(200);
    expect(okRes.body).toMatchObject({ arch: "arm64", piSerial: null });
  });

  it("refuses to deploy an x86-64 version on an arm64 host, naming both, and starts nothing; the version's owner sets it to arm64 and it deploys", async () => {
    const { hostId, name } = await setup.heldHost();
    await updateHost(t.db, setup.admin, hostId, { arch: "arm64" });
    const { image, version } = await seedReadyImage(t.db, { ownerUserId: setup.holder.user!.id, name: `Debian 12 (cloud image) ${randomBytes(2).toString("hex")}` });
    const refused = await callRoute<ErrorBody>(deployments.POST, "POST", `/api/v1/hosts/${hostId}/deployments`, { token: holderToken, params: { id: hostId }, body: { action: "deploy_image", imageId: image.id } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain(`${name} is arm64; ${image.name} v${version} is for x86-64`);
    expect(refused.body.error.details?.fieldErrors?.imageVersion).toBeDefined();
    // Diskless (issue 18 part 1) is refused the same way: the root would not boot either.
    const diskless = await callRoute<ErrorBody>(deployments.POST, "POST", `/api/v1/hosts/${hostId}/deployments`, { token: holderToken, params: { id: hostId }, body: { action: "deploy_image", imageId: image.id, diskless: true } });
    expect(diskless.status).toBe(400);
    expect(diskless.body.error.message).toContain(`${name} is arm64; ${image.name} v${version} is for x86-64`);
    expect((await listDeployments(t.db, setup.admin, hostId)).data).toHaveLength(0);

    const badArch = await callRoute<ErrorBody>(versionById.PATCH, "PATCH", `/api/v1/images/${image.id}/versions/${version}`, { token: holderToken, params: { id: image.id, version: String(version) }, body: { arch: "riscv" } });
    expect(badArch.status).toBe(400);
    const empty = await callRoute<ErrorBody>(versionById.PATCH, "PATCH", `/api/v1/images/${image.id}/versions/${version}`, { token: holderToken, params: { id: image.id, version: String(version) }, body: {} });
    expect(empty.status).toBe(400);
    const set = await callRoute<{ arch: string; notes: string }>(versionById.PATCH, "PATCH", `/api/v1/images/${image.id}/versions/${version}`, { token: holderToken, params: { id: image.id, version: String(version) }, body: { arch: "arm64" } });
    expect(set.status).toBe(200);
    expect(set.body.arch).toBe("arm64");
    const started = await callRoute<{ id: string }>(deployments.POST, "POST", `/api/v1/hosts/${hostId}/deployments`, { token: holderToken, params: { id: hostId }, body: { action: "deploy_image", imageId: image.id } });
    expect(started.status).toBe(201);
  });

  it("a reservation that deploys a version is given hosts of its architecture, and refuses a named host or an arch filter that does not fit", async () => {
    const T0 = new Date("2026-11-10T10:00:00Z");
    const iso = (h: number) => hoursAfter(T0, h).toISOString();
    const w = await seedLeaseWorld(t.db, { hosts: 2 });
    const ann = w.members[0]![0]!;
    // The first host by name (what the pool would pick first) is the Pi.
    const [pi, pc] = [...w.hosts].sort((a, b) => a.name.localeCompare(b.name));
    await updateHost(t.db, w.adminActor, pi!.id, { arch: "arm64" });
    const { image, version } = await seedReadyImage(t.db, { ownerUserId: ann.id, name: `Debian x86 ${randomBytes(2).toString("hex")}` });
    const deploy = { action: "deploy_image", imageId: image.id };
    const r = await createReservation(t.db, as(ann), { poolId: w.pool.id, startsAt: iso(24), endsAt: iso(26), deploy }, { now: T0 });
    expect(r.hosts.map((h) => h.name)).toEqual([pc!.name]);
    expect(r.criteria).toMatchObject({ arch: "x86_64" });
    await expectAppError(
      createReservation(t.db, w.adminActor, { hostIds: [pi!.id], userId: ann.id, projectId: w.projects[0]!.id, startsAt: iso(30), endsAt: iso(32), deploy }, { now: T0 }),
      "validation",
      `${pi!.name} is arm64; ${image.name} v${version} is for x86-64. Choose a version built for arm64 (or correct the host's or the version's architecture); nothing was reserved.`,
    );
    await expectAppError(createReservation(t.db, as(ann), { poolId: w.pool.id, arch: "arm64", startsAt: iso(30), endsAt: iso(32), deploy }, { now: T0 }), "validation", /is for x86-64; hosts of arm64 cannot run it/);
  });
});
