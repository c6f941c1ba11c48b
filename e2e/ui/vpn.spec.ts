import { readFile } from "node:fs/promises";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { linkIn, waitForMail } from "../support/mail";
import { ADMIN, E2E_VPN_ENDPOINT, PASSWORD, readState, uniqueEmail } from "../support/state";
import { signIn } from "../support/ui";

async function registeredAccount(request: APIRequestContext): Promise<string> {
  const email = uniqueEmail("vpn");
  expect((await request.post("/api/account/register", { data: { email, password: PASSWORD } })).status()).toBe(202);
  const verify = linkIn(await waitForMail(email, "Confirm your email"), "/verify/");
  expect((await request.post("/api/account/verify", { data: { token: verify.split("/").pop() } })).status()).toBe(200);
  return email;
}

async function addDevice(page: Page, name: string, source: RegExp) {
  await page.getByRole("button", { name: "Add a device" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a device" });
  await dialog.getByLabel("Device name").fill(name);
  await dialog.getByRole("radio", { name: source }).check();
  await dialog.getByRole("button", { name: "Add device" }).click();
  return page.getByRole("dialog", { name: `Your WireGuard file for ${name}` });
}

test("[LAB-ACCESS] a researcher adds a WireGuard device with a key made in the browser, downloads its file, and revokes a server-made one; an administrator revokes the other", async ({ page, request, browser }) => {
  const email = await registeredAccount(request);
  await signIn(page, email, PASSWORD);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Lab access" }).click();
  await expect(page.getByRole("heading", { name: "Lab access" })).toBeVisible();
  await expect(page.getByTestId("no-vpn-devices")).toBeVisible();

  // The key pair is made here: Kiln is sent the public key only.
  const posted: unknown[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/api/v1/me/vpn-devices")) posted.push(r.postDataJSON());
  });
  const laptop = await addDevice(page, "laptop", /Make the key in this browser/);
  await expect(laptop.getByTestId("private-key-note")).toContainText("shown only now");
  await expect(laptop.getByTestId("device-qr")).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent("download"), laptop.getByRole("button", { name: "Download kiln-laptop.conf" }).click()]);
  expect(download.suggestedFilename()).toBe("kiln-laptop.conf");
  const conf = await readFile((await download.path())!, "utf8");
  const privateKey = /^PrivateKey = ([A-Za-z0-9+/]{43}=)$/m.exec(conf)?.[1];
  expect(privateKey, conf).toBeTruthy();
  expect(conf).toMatch(/^\[Interface\]$/m);
  expect(conf).toMatch(/^Address = 10\.250\.0\.\d+\/32$/m);
  expect(conf).toMatch(/^\[Peer\]$/m);
  expect(conf).toContain(`Endpoint = ${E2E_VPN_ENDPOINT}`);
  expect(conf).toMatch(/^PublicKey = [A-Za-z0-9+/]{43}=$/m);
  expect(posted).toHaveLength(1);
  expect(JSON.stringify(posted)).not.toContain(privateKey!);
  expect(posted[0]).toMatchObject({ name: "laptop", keyOrigin: "browser" });
  await laptop.getByRole("button", { name: "Done" }).click();
  const laptopRow = page.getByTestId("vpn-device-laptop");
  await expect(laptopRow).toContainText("made in the browser");
  const address = /^Address = (\S+)\/32$/m.exec(conf)![1]!;
  await expect(laptopRow).toContainText(address);

  // A pasted key that is not one is refused under the field, with what a key looks like.
  await page.getByRole("button", { name: "Add a device" }).click();
  const add = page.getByRole("dialog", { name: "Add a device" });
  await add.getByLabel("Device name").fill("tablet");
  await add.getByRole("radio", { name: /I have a public key/ }).check();
  await add.getByLabel("Public key", { exact: true }).fill("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI");
  await add.getByRole("button", { name: "Add device" }).click();
  await expect(add.getByText("A WireGuard key is 44 characters of base64")).toBeVisible();
  await add.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("vpn-device-tablet")).toHaveCount(0);

  // Kiln made this one: its private key is in this answer only.
  const phone = await addDevice(page, "phone", /Make the key on the server/);
  await expect(phone.getByTestId("private-key-note")).toBeVisible();
  await expect(phone.getByTestId("device-qr")).toBeVisible();
  await phone.getByText("Show the file").click();
  await expect(phone.getByTestId("device-config-text")).toContainText(/PrivateKey = [A-Za-z0-9+/]{43}=/);
  await phone.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("vpn-device-phone")).toContainText("made by Kiln");

  const list = await page.request.get("/api/v1/me/vpn-devices");
  const phoneId = ((await list.json()) as { data: { id: string; name: string }[] }).data.find((d) => d.name === "phone")!.id;
  const later = await page.request.get(`/api/v1/me/vpn-devices/${phoneId}/wireguard.conf`);
  expect(later.status()).toBe(200);
  expect(later.headers()["content-disposition"]).toBe('attachment; filename="kiln-phone.conf"');
  // Kiln does not keep private keys: a later copy has the placeholder line.
  expect(await later.text()).toMatch(/^PrivateKey = <paste/m);

  await page.getByTestId("revoke-phone").click();
  await page.getByRole("dialog", { name: "Revoke phone?" }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByTestId("vpn-device-phone")).toHaveCount(0);
  await expect(laptopRow).toBeVisible();
  expect((await page.request.get(`/api/v1/me/vpn-devices/${phoneId}/wireguard.conf`)).status()).toBe(404);
  await page.reload();
  await expect(page.getByTestId("vpn-device-phone")).toHaveCount(0);

  // An administrator sees the laptop with its owner in the admin console, and revokes it.
  const adminContext = await browser.newContext({ baseURL: readState().baseURL });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.goto("/admin");
  await admin.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "VPN devices" }).click();
  const row = admin.getByTestId("vpn-device-laptop").filter({ hasText: email });
  await expect(row).toContainText(address);
  await row.getByRole("button", { name: "Revoke" }).click();
  await admin.getByRole("dialog", { name: "Revoke laptop?" }).getByRole("button", { name: "Revoke" }).click();
  await expect(admin.getByTestId("vpn-device-laptop").filter({ hasText: email })).toHaveCount(0);
  await adminContext.close();
  await page.reload();
  await expect(page.getByTestId("no-vpn-devices")).toBeVisible();
});
