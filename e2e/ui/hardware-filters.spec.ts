// Hardware facts as selection criteria in the browser: a researcher narrows the lease dialog by
// disk and firmware and watches the count of matching free hosts move as they type, is refused
// with the per-criterion counts, then leases the one machine that fits; an admin filters the host
// list the same way. Facts are written as commissioning stores them (db/queries/testing.ts).
import path from "node:path";
import { expect, test } from "@playwright/test";
import { createDb } from "../../db/client";
import { setHostFactsForTest } from "../../db/queries/testing";
import { startEmbeddedPostgres } from "../../lib/runtime/embedded-postgres";
import { adminToken, registerResearcher } from "../support/api";
import { addMember, createAdmin, createHost, createPool, createProject, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

const GB = 1_000_000_000;

const NVME_UEFI = {
  cpuCores: 32,
  memoryMb: 131072,
  disks: [{ name: "nvme0n1", sizeBytes: 1000 * GB, model: "Samsung PM9A3", serial: "S1", rotational: false, type: "nvme" as const }],
  facts: { cpu: { model: "AMD EPYC 7543 32-Core Processor", vendor: "AuthenticAMD", threads: 64 }, nics: [{ mac: "02:00:00:00:0a:01", name: "eth0", driver: "mlx5_core", speedMbps: 25000, link: true }], firmware: "uefi", bmc: null, commissionedAt: "2026-12-01T10:00:00Z" },
};
const SSD_BIOS = {
  cpuCores: 16,
  memoryMb: 65536,
  // An older report: no disk type, only the rotational flag.
  disks: [{ name: "sda", sizeBytes: 480 * GB, model: "INTEL SSDSC2KB48", serial: "S2", rotational: false }],
  facts: { cpu: { model: "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", vendor: "GenuineIntel", threads: 32 }, nics: [{ mac: "02:00:00:00:0b:01", name: "eno1", driver: "i40e", speedMbps: 10000, link: true }], firmware: "bios", bmc: null, commissionedAt: "2026-12-01T10:00:00Z" },
};

/** Three hosts in a new pool: an NVMe/UEFI machine, an SSD/BIOS one, and one never commissioned. */
async function seedPool(token: string, prefix: string) {
  const pool = await createPool(token, { name: uniqueName(`${prefix}-pool`) });
  const nvme = await createHost(token, { name: uniqueName(`${prefix}-a-nvme`), poolId: pool.id });
  const ssd = await createHost(token, { name: uniqueName(`${prefix}-b-ssd`), poolId: pool.id });
  const blank = await createHost(token, { name: uniqueName(`${prefix}-c-new`), poolId: pool.id });
  const pg = await startEmbeddedPostgres(path.join(readState().dataDir, "postgres"), { attachIfRunning: true });
  const { db, close } = createDb(pg.url, { max: 1 });
  try {
    await setHostFactsForTest(db, { hostId: nvme.id, ...NVME_UEFI });
    await setHostFactsForTest(db, { hostId: ssd.id, ...SSD_BIOS });
  } finally {
    await close();
  }
  return { pool, nvme, ssd, blank };
}

test("[LEASES] a researcher asks for hardware in the lease dialog, sees the matching count as they type, and gets the machine that fits", async ({ page }) => {
  const admin = await adminToken(uniqueName("hw-ui"));
  const { email } = await registerResearcher("hw", 0);
  const { pool, nvme } = await seedPool(admin, "hw");
  const project = await createProject(admin, { name: uniqueName("hw-proj") });
  await addMember(admin, project.id, email);

  await signIn(page, email, PASSWORD);
  await page.getByRole("button", { name: "Get machines" }).click();
  const dialog = page.getByRole("dialog", { name: "Get machines" });
  await dialog.getByLabel("Pool").selectOption(pool.id);
  await dialog.getByText("Hardware (optional)").click();
  const count = dialog.getByTestId("pool-match-count");
  await expect(count.getByRole("status")).toHaveText(`3 free hosts in pool ${pool.name}.`);

  await dialog.getByLabel("Disk type").selectOption("nvme");
  await dialog.getByLabel("A disk of at least (GB)").fill("500");
  await expect(count.getByRole("status")).toHaveText(`1 of the 3 free hosts in pool ${pool.name} matches.`);
  await expect(count).toContainText("1 free host has no hardware facts yet (never commissioned)");

  await dialog.getByLabel("Firmware").selectOption("bios");
  await expect(count.getByRole("status")).toHaveText(`None of the 3 free hosts in pool ${pool.name} match.`);
  await expect(count).toContainText("1 with an NVMe disk of at least 500 GB");
  await expect(count).toContainText("1 with BIOS firmware");

  // Asking anyway: refused with the same counts, and nothing leased.
  await dialog.getByRole("button", { name: "Get machines" }).click();
  await expect(dialog.getByRole("alert")).toContainText(
    `3 hosts are free in pool ${pool.name}; 1 has an NVMe disk of at least 500 GB, 1 has BIOS firmware, but none has all of these. ` +
      "1 of the free hosts has no hardware facts yet (never commissioned), so it matches no hardware requirement. Nothing was leased.",
  );

  await dialog.getByLabel("Firmware").selectOption("uefi");
  await dialog.getByLabel("CPU model contains").fill("epyc");
  await expect(count.getByRole("status")).toHaveText(`1 of the 3 free hosts in pool ${pool.name} matches.`);
  await dialog.getByRole("button", { name: "Get machines" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(`Leased ${nvme.name} until`)).toBeVisible();
});

test("[HOSTS] an admin filters the host list by disk, firmware and CPU model", async ({ page }) => {
  const token = await adminToken(uniqueName("hw-hosts"));
  const { email } = await createAdmin(token);
  const { pool, nvme, ssd, blank } = await seedPool(token, "hwl");

  await signIn(page, email, PASSWORD);
  await page.goto(`/admin/hosts?pool=${pool.id}`);
  for (const h of [nvme, ssd, blank]) await expect(page.getByTestId(`host-row-${h.name}`)).toBeVisible();

  // Solid-state of at least 400 GB: the NVMe machine and the SSD one (typed by its rotational flag).
  await page.getByLabel("Disk type").selectOption("ssd");
  await page.getByLabel("A disk ≥ (GB)").fill("400");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/diskType=ssd/);
  await expect(page.getByTestId(`host-row-${blank.name}`)).toBeHidden();
  await expect(page.getByTestId(`host-row-${nvme.name}`)).toBeVisible();
  await expect(page.getByTestId(`host-row-${ssd.name}`).getByTestId("host-hardware")).toContainText("16 cores · 64 GB");
  await expect(page.getByTestId(`host-row-${ssd.name}`).getByTestId("host-hardware")).toContainText("SSD 480 GB");
  await expect(page.getByText("2 in this view")).toBeVisible();

  // …of those, BIOS with a Xeon (any case): only the SSD machine.
  await page.getByLabel("Firmware").selectOption("bios");
  await page.getByLabel("CPU model").fill("XEON(R) GOLD");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId(`host-row-${nvme.name}`)).toBeHidden();
  await expect(page.getByTestId(`host-row-${ssd.name}`)).toBeVisible();
  await expect(page.getByText("1 in this view")).toBeVisible();

  // Memory in GB on the page, MB in the API: 100 GB leaves none of these.
  await page.getByLabel("Memory ≥ (GB)").fill("100");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/minMemoryGb=100/);
  await expect(page.getByText("No hosts match.")).toBeVisible();
});
