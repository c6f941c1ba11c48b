// Commissioning in the browser (docs/commissioning.md). The machine is played over HTTP, as the
// deploy ramdisk's agent talks to Kiln (the real ramdisk runs in lib/hosts/qemu-commission.int.test.ts):
// its first network boot gets the commissioning run, its agent reports the hardware; an admin
// sees the facts on the host page, commissions it again from the host list, and the second
// report's changes show. MACs 52:54:00:c5:xx:xx.
import { expect, test } from "@playwright/test";
import { adminToken, apiOk } from "../support/api";
import { createAdmin, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

function newMac(): string {
  const b = () => Math.floor(Math.random() * 256).toString(16).padStart(2, "0");
  return `52:54:00:c5:${b()}:${b()}`;
}

/** The machine network-boots: Kiln's answer, and the run token in it when it is a commissioning run. */
async function networkBoot(mac: string): Promise<{ body: string; token: string | null }> {
  const res = await fetch(`${readState().baseURL}/boot/${mac.replace(/:/g, "-")}`);
  expect(res.status).toBe(200);
  const body = await res.text();
  return { body, token: /kiln\.action=commission/.test(body) ? (/kiln\.token=([A-Za-z0-9_-]+)/.exec(body)?.[1] ?? null) : null };
}

/** What the agent posts (boot/agent/inventory.sh, inventory()). */
async function reportHardware(mac: string, token: string, p: { memoryMb: number; disks: unknown[] }) {
  const base = `${readState().baseURL}/boot/${mac.replace(/:/g, "-")}/${token}`;
  const env = await fetch(`${base}/agent.env`);
  expect(env.status).toBe(200);
  expect(await env.text()).toContain("KILN_ACTION='commission'");
  const res = await fetch(`${base}/inventory`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      cpuCores: 16,
      memoryMb: p.memoryMb,
      cpu: { model: "AMD EPYC 7302P 16-Core Processor", vendor: "AuthenticAMD", threads: 16, cores: 16, sockets: 1 },
      disks: p.disks,
      nics: [{ mac, name: "eno1", driver: "virtio_net", speedMbps: 10000, link: true, addresses: [] }],
      dmi: { vendor: "Supermicro", product: "AS-1014S-WTRT", serial: "S9-E2E" },
      firmware: "uefi",
      bmc: { address: "10.77.0.21" },
    }),
  });
  expect(res.status).toBe(200);
}

test("[HOSTS] a new machine is commissioned at its first boot; the host page shows its facts and, after an admin's Commission, what changed", async ({ page }) => {
  const token = await adminToken(uniqueName("commission-ui"));
  const { email } = await createAdmin(token);
  const mac = newMac();

  const first = await networkBoot(mac);
  expect(first.token, first.body).not.toBeNull();
  await reportHardware(mac, first.token!, { memoryMb: 65536, disks: [{ name: "nvme0n1", sizeBytes: 960_197_124_096, serial: "NV-1", model: "Samsung PM9A3", rotational: false }] });
  const found = await apiOk<{ data: { id: string; name: string }[] }>(token, "GET", `/api/v1/hosts?state=new&q=${mac}`, undefined, 200);
  const host = found.data[0]!;

  await signIn(page, email, PASSWORD);
  await page.goto(`/hosts/${host.id}`);
  await expect(page.getByRole("heading", { name: host.name })).toBeVisible();
  await expect(page.getByTestId("fact-cpu")).toContainText("AMD EPYC 7302P 16-Core Processor");
  await expect(page.getByTestId("fact-nics")).toContainText("virtio_net");
  await expect(page.getByTestId("fact-nics")).toContainText("10 Gb/s");
  await expect(page.getByTestId("fact-firmware")).toHaveText("UEFI");
  await expect(page.getByTestId("fact-dmi")).toContainText("Supermicro AS-1014S-WTRT");
  await expect(page.getByText("10.77.0.21", { exact: true })).toBeVisible();
  await expect(page.getByTestId("fact-version-1")).toContainText("The first report.");

  // Commission again from the admin host list (new hosts).
  await page.goto(`/admin/hosts?state=new&q=${encodeURIComponent(mac)}`);
  const row = page.getByTestId(`host-row-${host.name}`);
  await row.getByRole("button", { name: `Commission ${host.name}` }).click();
  await row.getByRole("button", { name: `Confirm commissioning ${host.name}` }).click();
  await expect(row.getByRole("status")).toContainText("Commissioning started");

  // Someone restarts the machine (manual power): it boots the ramdisk again, with more memory and a second disk.
  const second = await networkBoot(mac);
  expect(second.token, second.body).not.toBeNull();
  expect(second.token).not.toBe(first.token);
  await reportHardware(mac, second.token!, {
    memoryMb: 131072,
    disks: [
      { name: "nvme0n1", sizeBytes: 960_197_124_096, serial: "NV-1", model: "Samsung PM9A3", rotational: false },
      { name: "sda", sizeBytes: 4_000_787_030_016, serial: "HD-2", model: "ST4000NM", rotational: true },
    ],
  });

  await page.goto(`/hosts/${host.id}`);
  const v2 = page.getByTestId("fact-version-2");
  await expect(v2).toContainText("commissioning");
  const changes = v2.getByRole("list", { name: "Changes in version 2" });
  await expect(changes).toContainText("memory (MB)");
  await expect(changes).toContainText("65536 → 131072");
  await expect(changes).toContainText("disk sda");
  await expect(changes).toContainText("sda, 4001 GB, hdd, ST4000NM, serial HD-2");
  await expect(page.getByTestId("fact-version-1")).toBeVisible();
  // The API says the same.
  const facts = await apiOk<{ data: { version: number; changes: unknown[] | null }[] }>(token, "GET", `/api/v1/hosts/${host.id}/facts`, undefined, 200);
  expect(facts.data.map((v) => v.version)).toEqual([2, 1]);
  expect(facts.data[0]!.changes).toHaveLength(2);
});
