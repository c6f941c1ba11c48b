// An image deploy with a cloud-init template, as Kiln sees it over HTTP (a FakeMachine plays
// the agent and the installed system; the QEMU test does it for real): the seed URL in the
// agent's instructions, two "done"s on one URL told apart by where the run is, the network boot
// in between answered with local boot, and the refusals before anything starts.
import "@/test/harness/route-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { listHostAddresses } from "@/lib/hosts/addresses";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createTemplate } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { cancelDeployment } from "./commands";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { getNextBoot } from "./next-boot";
import { runWorkerSteps } from "./worker";

const t = await useTestDb();
let setup: ProvisioningSetup;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "cloud-run", macByte: 0xc2 });
});

afterAll(async () => {
  await setup?.close();
  await stopJobSender();
});

async function cloudInitTemplateId() {
  return (await getTemplateByBuiltinKey(t.db, "cloud-init-basic"))!.id;
}

describe("an image deploy with a cloud-init template", () => {
  it("ends only when the installed system calls done; meanwhile its network boot boots the disk", async () => {
    const { holder } = setup;
    const { hostId, machine } = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, unattendedTemplateId: await cloudInitTemplateId() });
    expect(run.steps.map((s) => s.name)).toEqual(["power_on", "boot", "agent", "write", "verify", "first_boot"]);
    await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });

    expect(await machine.boot()).toContain("kiln.token=");
    const instructions = await machine.instructions();
    expect(instructions.cloudInitSeed).toBe(`${setup.server.url}/boot/${machine.mac.replace(/:/g, "-")}/${machine.token}/`);
    expect((await machine.file("agent.env")).text).toContain(`KILN_CLOUD_INIT_SEED='${instructions.cloudInitSeed}'`);
    // The seed is what cloud-init's NoCloud reads: user-data is the template, meta-data names the run.
    expect((await machine.file("user-data")).text).toMatch(/^#cloud-config\n/);
    expect((await machine.file("meta-data")).text).toContain(`instance-id: kiln-${run.id}`);

    // The agent's done: the image is written; the run waits for the first boot.
    expect((await machine.done({ bytes: img.bytes.length, sha256: img.sha256 })).status).toBe(200);
    let view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("running");
    expect(view.steps.map((s) => [s.name, s.state])).toEqual([
      ["power_on", "done"],
      ["boot", "done"],
      ["agent", "done"],
      ["write", "done"],
      ["verify", "done"],
      ["first_boot", "running"],
    ]);
    expect(await getNextBoot(t.db, holder, hostId)).toEqual({ kind: "disk" });
    // The reboot into the written system: iPXE asks and is told to boot the disk.
    const answer = await machine.boot();
    expect(answer).not.toContain("kiln.token=");
    expect(answer).toMatch(/exit|sanboot/);

    // The installed system's done (the template's runcmd posts `ip -o link; ip -o addr`).
    const ip = "2: ens3    inet 10.20.30.40/24 brd 10.20.30.255 scope global dynamic ens3\\       valid_lft 86000sec preferred_lft 86000sec\n";
    expect((await machine.file("done", "POST", ip, "text/plain")).status).toBe(200);
    view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("done");
    expect(view.steps.find((s) => s.name === "first_boot")?.state).toBe("done");
    const addresses = (await listHostAddresses(t.db, [hostId])).get(hostId) ?? [];
    expect(addresses.find((a) => a.address === "10.20.30.40")?.source).toBe("installed");
    // A repeated done (phone_home after runcmd) changes nothing.
    expect((await machine.file("done", "POST", "")).status).toBe(200);
  });

  it("cancelled while waiting for the first boot, the written disk still boots (no halt)", async () => {
    const { holder } = setup;
    const { hostId, machine } = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, unattendedTemplateId: await cloudInitTemplateId() });
    await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });
    await machine.boot();
    await machine.instructions();
    await machine.done({ bytes: img.bytes.length, sha256: img.sha256 });
    await cancelDeployment(t.db, holder, run.id);
    expect((await getDeployment(t.db, holder, run.id)).state).toBe("cancelled");
    expect(await getNextBoot(t.db, holder, hostId)).toEqual({ kind: "disk" });
  });

  it("refuses an unattended template that is not cloud-config, and keeps deploys without one as they were", async () => {
    const { holder } = setup;
    const { hostId } = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const preseed = (await getTemplateByBuiltinKey(t.db, "debian-12-preseed"))!;
    await expect(startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, unattendedTemplateId: preseed.id })).rejects.toMatchObject({
      code: "validation",
      details: { fieldErrors: { unattendedTemplateId: [expect.stringContaining("is not cloud-init user-data")] } },
    });
    const system = (await getTemplateByBuiltinKey(t.db, "deploy-image"))!;
    await expect(startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, unattendedTemplateId: system.id })).rejects.toMatchObject({ code: "validation" });
    const mine = await createTemplate(t.db, holder, { name: "not yaml", kind: "unattended", format: "cloud-init", source: "#!/bin/sh\necho hi\n" });
    await expect(startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, unattendedTemplateId: mine.id })).rejects.toMatchObject({ code: "validation" });

    const plain = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id });
    expect(plain.steps.map((s) => s.name)).toEqual(["power_on", "boot", "agent", "write", "verify"]);
  });
});
