// Issue 17's "Done when", end to end with real parts: a researcher registers in the browser and
// the lab's directory (the e2e slapd) gets their entry, written by the worker; they lease a
// machine, add their laptop with a key made in the browser and download its file; a real
// WireGuard gateway (wireguard-go in namespaces this spec makes, configured by
// scripts/vpn-gateway-sync.sh over HTTP from this Kiln with the gateway token) and a client
// started from the downloaded file carry them to the leased machine and nowhere else, and not
// there either once they released it.
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { Client } from "ldapts";
import { adminToken, apiOk, connectDatabase } from "../support/api";
import { addMember, createHost, createPool, createProject, uniqueName } from "../support/inventory";
import { linkIn, waitForMail } from "../support/mail";
import { E2E_VPN_ENDPOINT, E2E_VPN_RANGE, PASSWORD, readState, uniqueEmail } from "../support/state";
import { signIn } from "../support/ui";
import { LAB_UNDERLAY, startWireguardLab, wireguardLabSkipReason, type WireguardLab } from "../../test/harness/wireguard-lab";
import { canBindAs } from "../../test/harness/slapd";

/** Inside E2E_VPN_ALLOWED_IPS; these addresses exist only in the spec's machines namespace. */
const MACHINE_ADDRESSES = ["10.77.1.10", "10.77.1.11"] as const;
const VPN_GATEWAY_CIDR = "10.250.0.1/24"; // the first usable address of E2E_VPN_RANGE is the gateway's

type DirectoryEntry = { dn: string; mail: string | undefined };

async function findDirectoryEntry(uid: string): Promise<DirectoryEntry | null> {
  const { directory } = readState();
  const client = new Client({ url: directory.url, timeout: 5000, connectTimeout: 5000 });
  try {
    await client.bind(directory.bindDn, directory.bindPassword);
    const { searchEntries } = await client.search(directory.peopleDn, { scope: "one", filter: `(uid=${uid})`, attributes: ["mail"] });
    const entry = searchEntries[0];
    if (!entry) return null;
    const mail = entry.mail;
    return { dn: entry.dn, mail: Array.isArray(mail) ? String(mail[0]) : mail === undefined ? undefined : String(mail) };
  } finally {
    await client.unbind().catch(() => {});
  }
}

function canBind(dn: string, password: string): Promise<boolean> {
  return canBindAs(readState().directory.url, dn, password);
}

const skipReason = wireguardLabSkipReason();

test("[LAB-ACCESS-DONE] a researcher registers and gets a directory entry; their laptop's downloaded file tunnels to the machine they lease and nowhere else", async ({ page }) => {
  test.skip(skipReason !== null, `the real WireGuard tunnel cannot be built here: ${skipReason}`);
  test.setTimeout(180_000);
  const state = readState();

  // An administrator prepares a project and a pool of two machines whose lab addresses Kiln knows
  // (written into host_addresses as the boot server and the agent do, like host-vars.spec.ts).
  const admin = await adminToken(uniqueName("lab-done"));
  const pool = await createPool(admin, { name: uniqueName("vpn-pool"), defaultLeaseHours: 4, maxLeaseHours: 48 });
  const project = await createProject(admin, { name: uniqueName("vpn-proj") });
  const hosts = [
    await createHost(admin, { name: uniqueName("vpn-a"), poolId: pool.id }),
    await createHost(admin, { name: uniqueName("vpn-b"), poolId: pool.id }),
  ];
  const addressOf = new Map(hosts.map((h, i) => [h.name, MACHINE_ADDRESSES[i]!]));
  const sql = await connectDatabase();
  try {
    for (const h of hosts) await sql`insert into host_addresses (host_id, address, source, seen_at) values (${h.id}, ${addressOf.get(h.name)!}, 'agent', now())`;
  } finally {
    await sql.end();
  }

  // 1. The researcher registers in the browser, follows the mailed link and signs in.
  const email = uniqueEmail("labdone");
  const uid = email.split("@")[0]!;
  await page.goto("/register");
  await page.getByLabel("Name").fill("Wendy Wireguard");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Check your mail")).toBeVisible();
  await page.goto(linkIn(await waitForMail(email, "Confirm your email"), "/verify/"));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByText(`${email} is confirmed`)).toBeVisible();
  await signIn(page, email, PASSWORD);

  // 2. The lab's directory has their entry (the worker writes it after the verification commits),
  // with their mail, and it binds with the password they chose.
  let entry: DirectoryEntry | null = null;
  await expect
    .poll(async () => (entry = await findDirectoryEntry(uid)), { timeout: 70_000, intervals: [250, 500, 1000], message: `uid=${uid} in ${state.directory.peopleDn}` })
    .not.toBeNull();
  expect(entry!.dn).toBe(`uid=${uid},${state.directory.peopleDn}`);
  expect(entry!.mail).toBe(email);
  expect(await canBind(entry!.dn, PASSWORD)).toBe(true);
  expect(await canBind(entry!.dn, `${PASSWORD}x`)).toBe(false);

  // 3. They lease one machine of the two from the pool.
  await addMember(admin, project.id, email);
  await page.reload();
  await page.getByRole("button", { name: "Get machines" }).click();
  const getDialog = page.getByRole("dialog", { name: "Get machines" });
  await getDialog.getByLabel("Pool").selectOption(pool.id);
  await expect(getDialog.getByLabel("Pool")).toContainText(`${pool.name} — 2 of 2 available`);
  await getDialog.getByLabel("How many machines").fill("1");
  await getDialog.getByRole("button", { name: "Get machines" }).click();
  await expect(getDialog).toBeHidden();
  const leasedText = await page.getByText(/^Leased \S+ until/).textContent();
  const leasedName = /^Leased (\S+) until/.exec(leasedText ?? "")?.[1] ?? "";
  expect([...addressOf.keys()]).toContain(leasedName);
  const held = addressOf.get(leasedName)!;
  const other = MACHINE_ADDRESSES.find((a) => a !== held)!;
  const card = page.getByRole("article", { name: `Lease of ${leasedName}` });
  await expect(card).toBeVisible();

  // 4. On Lab access they add "laptop" with a key made in the browser and download its file.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Lab access" }).click();
  await expect(page.getByRole("heading", { name: "Lab access" })).toBeVisible();
  await page.getByRole("button", { name: "Add a device" }).click();
  const add = page.getByRole("dialog", { name: "Add a device" });
  await add.getByLabel("Device name").fill("laptop");
  await add.getByRole("radio", { name: /Make the key in this browser/ }).check();
  await add.getByRole("button", { name: "Add device" }).click();
  const laptop = page.getByRole("dialog", { name: "Your WireGuard file for laptop" });
  const [download] = await Promise.all([page.waitForEvent("download"), laptop.getByRole("button", { name: "Download kiln-laptop.conf" }).click()]);
  expect(download.suggestedFilename()).toBe("kiln-laptop.conf");
  const conf = await readFile((await download.path())!, "utf8");
  expect(conf).toMatch(/^PrivateKey = [A-Za-z0-9+/]{43}=$/m);
  expect(conf).toContain(`PublicKey = ${state.vpnGateway.publicKey}`);
  expect(conf).toContain(`Endpoint = ${E2E_VPN_ENDPOINT}`);
  const deviceAddress = /^Address = (\S+)\/32$/m.exec(conf)![1]!;
  await laptop.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("vpn-device-laptop")).toContainText(deviceAddress);

  // 5. The network: the gateway synced from this Kiln over HTTP, the client from the downloaded file.
  let lab: WireguardLab | undefined;
  try {
    const endpointHost = E2E_VPN_ENDPOINT.split(":")[0]!;
    lab = await startWireguardLab({ gatewayTunnelCidr: VPN_GATEWAY_CIDR, machines: [...MACHINE_ADDRESSES], clientHosts: { [endpointHost]: LAB_UNDERLAY.gateway } });
    const sync = () => lab!.runSync({ kilnUrl: state.baseURL, token: state.vpnGateway.token, gatewayPrivateKey: state.vpnGateway.privateKey });
    expect(await sync()).toBe("vpn-gateway-sync: applied peers,rules");
    const rules = lab.inNs(lab.ns.gateway, "nft", "list", "table", "inet", "kiln_vpn");
    expect(rules).toContain(`ip saddr ${deviceAddress} ip daddr ${held} accept`);
    expect(rules).not.toContain(`ip daddr ${other} accept`);
    await lab.configureClient(conf);

    // A real handshake, and the leased machine answers through the tunnel.
    expect(lab.canPing(held, 3), `ping ${held} (leased ${leasedName}) through the tunnel`).toBe(true);
    const handshake = lab.latestHandshake();
    expect(handshake).toBeGreaterThan(0);
    expect(Math.abs(handshake - Date.now() / 1000)).toBeLessThan(60);
    // The other machine is refused by the gateway's rules (its drop counter says so), not lost.
    const droppedBefore = lab.dropCount(E2E_VPN_RANGE);
    expect(lab.canPing(other), `ping ${other} (not leased)`).toBe(false);
    expect(lab.dropCount(E2E_VPN_RANGE)).toBeGreaterThan(droppedBefore);

    // 6. They release the machine in the UI; after the gateway's next sync it is refused too.
    await page.goto("/");
    await card.getByRole("button", { name: "Release" }).click();
    const confirm = page.getByRole("dialog", { name: "Release this machine?" });
    await confirm.getByRole("button", { name: "Release" }).click();
    await expect(card).toBeHidden();
    await expect(page.getByText(`Released ${leasedName}.`)).toBeVisible();
    expect(await sync()).toBe("vpn-gateway-sync: applied rules");
    expect(lab.inNs(lab.ns.gateway, "nft", "list", "table", "inet", "kiln_vpn")).not.toContain(`ip daddr ${held}`);
    const droppedAfterRelease = lab.dropCount(E2E_VPN_RANGE);
    expect(lab.canPing(held), `ping ${held} after the release`).toBe(false);
    expect(lab.dropCount(E2E_VPN_RANGE)).toBeGreaterThan(droppedAfterRelease);
    // Refused by the rules, not by a torn-down tunnel: the laptop is still the gateway's peer.
    expect(lab.inNs(lab.ns.gateway, "wg", "show", lab.ifs.gatewayWg, "allowed-ips")).toContain(`${deviceAddress}/32`);
  } finally {
    await lab?.stop();
  }

  // The lease is over in Kiln too.
  const leased = hosts.find((h) => h.name === leasedName)!;
  const after = await apiOk<{ host: { state: string } }>(admin, "GET", `/api/v1/hosts/${leased.id}`, undefined, 200);
  expect(after.host.state).not.toBe("leased");
});
