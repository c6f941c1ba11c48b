// Issue 18 part 3 in Chromium against the e2e Kiln (`npm start`, whose boot server runs the TFTP
// for Raspberry Pis on 127.0.0.1:69): a Pi asking TFTP for its files by an unknown serial is
// enlisted and shows in the admin's list of new hosts with its serial and arm64; an admin sets a
// host's architecture and serial on its page.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { adminToken, apiOk } from "../support/api";
import { createHost } from "../support/inventory";
import { ADMIN } from "../support/state";
import { signIn } from "../support/ui";

const run = promisify(execFile);
let token: string;

test.beforeAll(async () => {
  token = await adminToken("raspberry-pi");
});

test("[PI] an unknown serial asking Kiln's TFTP is enlisted as a new arm64 host with its serial", async ({ page }) => {
  const serial = randomBytes(4).toString("hex");
  const failed = await run("busybox", ["tftp", "-g", "-r", `${serial}/start4.elf`, "-l", "/dev/null", "127.0.0.1", "69"]).then(
    () => null,
    (e: { stderr: string }) => e.stderr,
  );
  expect(failed).toMatch(/\(1\) File not found/);
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto(`/admin/hosts?state=new&q=pi-${serial}`);
  const row = page.getByTestId(`host-row-pi-${serial}`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId("host-pi-serial")).toHaveText(`Pi serial ${serial}`);
  await expect(row).toContainText("arm64");
});

test("[PI] an admin makes a host an arm64 Pi on its page; a serial that is not 8 hex digits is refused beside its field", async ({ page }) => {
  const host = await createHost(token, { name: `pi-edit-${Date.now().toString(36)}` });
  const serial = randomBytes(4).toString("hex");
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto(`/hosts/${host.id}`);
  const edit = page.getByRole("region", { name: "Pool, site, tags and notes" });
  await edit.getByLabel("Architecture").selectOption("arm64");
  await edit.getByLabel("Raspberry Pi serial").fill(serial.toUpperCase());
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit.getByText("Saved.")).toBeVisible();
  const saved = await apiOk<{ host: { arch: string; piSerial: string } }>(token, "GET", `/api/v1/hosts/${host.id}`, undefined, 200);
  expect(saved.host).toMatchObject({ arch: "arm64", piSerial: serial });
  // A bad serial is refused beside its field.
  await edit.getByLabel("Raspberry Pi serial").fill("not-hex");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit.getByText(/8 hex digits/).first()).toBeVisible();
});
