// The serial console in the browser: a researcher watches a real QEMU lab machine (UEFI, so
// its firmware and iPXE print on the serial port) boot live and types into it; an IPMI host's
// Serial-over-LAN through OpenIPMI's ipmi_sim carries bytes both ways; someone who does not
// hold the host gets neither a ticket nor a WebSocket.
import net from "node:net";
import { expect, test, type Page } from "@playwright/test";
import { startIpmiSim, type IpmiSim } from "../../test/harness/ipmi-sim";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, uniqueName } from "../support/inventory";
import { createLabMachine, registerLabMachine, startRelay, type LabMachine } from "../support/machines";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

/** Everything the page's console WebSockets receive, as text (the terminal itself only shows its last screen). */
async function recordConsoleStream(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { kilnConsole: string; WebSocket: typeof WebSocket };
    w.kilnConsole = "";
    const Native = w.WebSocket;
    const decoder = new TextDecoder();
    w.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        this.addEventListener("message", (m) => (w.kilnConsole += typeof m.data === "string" ? m.data : decoder.decode(m.data as ArrayBuffer, { stream: true })));
      }
    };
  });
}

const streamText = (page: Page) => page.evaluate(() => (window as unknown as { kilnConsole: string }).kilnConsole);
const screen = (page: Page) => page.getByTestId("console-terminal").locator(".xterm-rows");

async function setup(prefix: string) {
  const admin = await adminToken(uniqueName(prefix));
  const researcher = await registerResearcher(prefix, 1);
  const pool = await createPool(admin, { name: uniqueName(prefix) });
  const project = await createProject(admin, { name: uniqueName(`${prefix}-proj`) });
  const { userId } = await addMember(admin, project.id, researcher.email);
  return { admin, researcher, pool, project, userId };
}

test("[CONSOLE] a researcher watches a lab machine boot live in the browser and types into it", async ({ page }) => {
  test.setTimeout(240_000);
  const s = await setup("con-lab");
  let machine: LabMachine | null = null;
  try {
    machine = await createLabMachine({ name: uniqueName("con-vm"), mac: "52:54:00:4b:56:01", port: Number(new URL(readState().baseURL).port), uefi: true });
    const host = await registerLabMachine(s.admin, machine, s.pool.id);
    await apiOk(s.admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId: s.userId, projectId: s.project.id, durationHours: 2 }, 201);

    await recordConsoleStream(page);
    await signIn(page, s.researcher.email, PASSWORD);
    await page.goto(`/hosts/${host.id}`);
    await expect(page.getByText("Opening the console is recorded in the audit log.")).toBeVisible();
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await expect(page.getByTestId("console-status")).toHaveText(/Connected/);
    // The machine is off: the console waits for it.
    await expect(screen(page)).toContainText("The machine is off", { timeout: 15_000 });

    // Switched on through its power driver (qemu runs the lab machine's launch script).
    await apiOk(s.researcher.tokens[0]!, "POST", `/api/v1/hosts/${host.id}/power`, { action: "on" }, 200);
    // Boot output live: OVMF hands over to iPXE, which asks Kiln, is told to boot the disk,
    // and the firmware ends in its shell (the disk is empty).
    await expect.poll(() => streamText(page), { timeout: 120_000, message: "iPXE's banner on the console" }).toContain("iPXE");
    await expect(screen(page)).toContainText("Shell>", { timeout: 120_000 });

    // A keystroke: the firmware's shell runs what is typed in the browser.
    await page.getByTestId("console-terminal").click();
    await page.keyboard.type("echo kiln-key-7", { delay: 30 });
    await page.keyboard.press("Enter");
    await expect.poll(() => streamText(page), { timeout: 30_000, message: "the command's output" }).toMatch(/\r\nkiln-key-7\r\n/);
    await expect(screen(page)).toContainText("kiln-key-7");
    // QEMU still logs the serial port to serial.log, where the command's output arrived too.
    expect(machine.serial()).toMatch(/\r\nkiln-key-7\r\n/);

    // Disconnect ends the session on the page.
    await page.getByRole("button", { name: "Disconnect" }).click();
    await expect(page.getByTestId("console-status")).toHaveText("Disconnected.");

    // The opening was audited.
    const audit = await apiOk(s.admin, "GET", `/api/v1/audit?action=host.console`, undefined, 200);
    expect(JSON.stringify(audit)).toContain(host.id);
  } finally {
    await machine?.remove();
  }
});

test("[CONSOLE] an IPMI host's Serial-over-LAN (ipmi_sim) in the browser, both ways", async ({ page }) => {
  test.setTimeout(120_000);
  // The machine's serial port: a TCP server here that ipmi_sim's SOL connects to (lan.conf
  // `sol "tcp:…"`), standing in for the machine; BMC, SOL and ipmitool are real.
  const received: Buffer[] = [];
  const ports = new Set<net.Socket>();
  const serial = net.createServer((c) => {
    ports.add(c);
    c.on("data", (d) => received.push(d));
    c.on("close", () => ports.delete(c));
  });
  await new Promise<void>((r) => serial.listen(0, "127.0.0.1", () => r()));
  let sim: IpmiSim | null = null;
  try {
    sim = await startIpmiSim({ solTcpPort: (serial.address() as net.AddressInfo).port });
    const s = await setup("con-sol");
    const host = await apiOk<{ id: string }>(s.admin, "POST", "/api/v1/hosts", {
      name: uniqueName("con-bmc"),
      poolId: s.pool.id,
      interfaces: [{ mac: "52:54:00:4b:56:02", isPxe: true }],
      power: { driver: "ipmi", params: { address: "127.0.0.1", port: sim.port, username: sim.username }, secrets: { password: sim.password } },
    }, 201);
    await apiOk(s.admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId: s.userId, projectId: s.project.id, durationHours: 2 }, 201);

    await recordConsoleStream(page);
    await signIn(page, s.researcher.email, PASSWORD);
    await page.goto(`/hosts/${host.id}`);
    await expect(page.getByText("IPMI Serial-over-LAN.")).toBeVisible();
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await expect(screen(page)).toContainText("[Kiln] Connected.", { timeout: 30_000 });
    await expect.poll(() => ports.size, { timeout: 15_000, message: "ipmi_sim connected to the serial port" }).toBeGreaterThan(0);
    for (const c of ports) c.write("Debian GNU/Linux 12 sol-machine ttyS0\r\nsol-machine login: ");
    await expect(screen(page)).toContainText("sol-machine login:", { timeout: 15_000 });
    await page.getByTestId("console-terminal").click();
    await page.keyboard.type("root");
    await page.keyboard.press("Enter");
    await expect.poll(() => Buffer.concat(received).toString("latin1"), { timeout: 15_000, message: "the keystrokes at the machine's serial port" }).toContain("root\r");
    await page.getByRole("button", { name: "Disconnect" }).click();
    await expect(page.getByTestId("console-status")).toHaveText("Disconnected.");
  } finally {
    await sim?.stop();
    serial.close();
  }
});

test("[CONSOLE] someone who does not hold the host gets no console", async ({ page }) => {
  const s = await setup("con-deny");
  const outsider = await registerResearcher("con-out", 1);
  const host = await apiOk<{ id: string }>(s.admin, "POST", "/api/v1/hosts", {
    name: uniqueName("con-held"),
    poolId: s.pool.id,
    interfaces: [{ mac: "52:54:00:4b:56:03", isPxe: true }],
    power: { driver: "qemu", params: { qmpSocket: "/nonexistent/qmp.sock", launch: "/nonexistent/start.sh", serialSocket: "/nonexistent/serial.sock" } },
  }, 201);
  await apiOk(s.admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId: s.userId, projectId: s.project.id, durationHours: 2 }, 201);

  // No ticket for them: the host does not exist as far as they can tell.
  const refused = await api(outsider.tokens[0]!, "POST", `/api/v1/hosts/${host.id}/console`);
  expect(refused.status).toBe(404);
  // The holder's ticket works once: a second WebSocket with it is refused.
  const { url } = await apiOk<{ url: string }>(s.researcher.tokens[0]!, "POST", `/api/v1/hosts/${host.id}/console`, undefined, 200);

  await signIn(page, outsider.email, PASSWORD);
  const response = await page.goto(`/hosts/${host.id}`);
  expect(response?.status()).toBe(404);
  const outcome = (u: string) =>
    page.evaluate(
      (path) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://${location.host}${path}`);
          ws.onopen = () => (ws.close(), resolve("opened"));
          ws.onclose = () => resolve("refused");
        }),
      u,
    );
  expect(await outcome(`/console/${host.id}?ticket=forged.ticket`)).toBe("refused");
  expect(await outcome(url)).toBe("opened");
  expect(await outcome(url)).toBe("refused");
});

test("[CONSOLE] a failed run keeps the machine's last console lines, with nobody attached", async ({ page }) => {
  test.setTimeout(240_000);
  const s = await setup("con-tail");
  // Its network boot goes to a closed port (a wrong next-server): iPXE says so on the serial
  // port, Kiln never hears of the machine, and the run fails at the boot deadline (45 s here).
  const closed = await startRelay(1);
  const port = closed.port;
  await closed.close();
  let machine: LabMachine | null = null;
  try {
    machine = await createLabMachine({ name: uniqueName("con-tail"), mac: "52:54:00:4b:56:04", port, uefi: true });
    const host = await registerLabMachine(s.admin, machine, s.pool.id);
    await apiOk(s.admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId: s.userId, projectId: s.project.id, durationHours: 2 }, 201);
    const run = await apiOk<{ id: string }>(s.researcher.tokens[0]!, "POST", `/api/v1/hosts/${host.id}/deployments`, { action: "wipe_disk" }, 201);
    await expect
      .poll(async () => (await apiOk<{ state: string }>(s.researcher.tokens[0]!, "GET", `/api/v1/deployments/${run.id}`, undefined, 200)).state, { timeout: 150_000, intervals: [2_000] })
      .toBe("failed");
    // The boot server's recorder wrote the tail while the run went on and once more at its end.
    await expect
      .poll(async () => (await apiOk<{ console: { text: string } | null }>(s.researcher.tokens[0]!, "GET", `/api/v1/deployments/${run.id}`, undefined, 200)).console?.text ?? "", { timeout: 15_000 })
      .toMatch(/chain\.ipxe\.\.\. (Connection (refused|reset)|Error)/);

    await signIn(page, s.researcher.email, PASSWORD);
    await page.goto(`/hosts/${host.id}`);
    await expect(page.getByText(/Console \(last lines, as of/)).toBeVisible();
    await expect(page.getByTestId("run-console")).toContainText("iPXE");
    await expect(page.getByTestId("run-console")).toContainText("chain.ipxe");
    await expect(page.getByTestId("run-console")).not.toContainText("\x1b");
  } finally {
    await machine?.remove();
  }
});
