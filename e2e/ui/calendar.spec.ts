import { expect, test, type Page } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createAdmin, createHost, createPool, createProject, uniqueName, type Named } from "../support/inventory";
import { PASSWORD } from "../support/state";
import { signIn } from "../support/ui";

const HOURS_PER_WEEK = 168;

/**
 * Drags across a host's row from the start of `fromHour` to the end of `toHour` (hours of the
 * shown week from Monday 00:00; 24 + 9 is Tuesday 09:00), down to the row of `toHost` if given.
 */
async function dragSlot(page: Page, host: string, fromHour: number, toHour: number, toHost = host): Promise<void> {
  const row = page.getByTestId(`row-${host}`);
  const last = page.getByTestId(`row-${toHost}`);
  const a = (await row.boundingBox())!;
  const b = (await last.boundingBox())!;
  const x = (hour: number) => a.x + (a.width * (hour + 0.5)) / HOURS_PER_WEEK;
  await page.mouse.move(x(fromHour), a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(x(toHour), b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

async function openCalendar(page: Page, pool: Named): Promise<void> {
  await page.goto("/");
  await page.getByRole("link", { name: `Calendar of ${pool.name}` }).click();
  await expect(page.getByRole("heading", { name: `Calendar of ${pool.name}` })).toBeVisible();
  await page.getByRole("button", { name: "Next week →" }).click();
}

async function setUp() {
  const admin = await adminToken(uniqueName("calendar-ui"));
  const base = uniqueName("cal");
  const pool = await createPool(admin, { name: `${base}-pool`, maxLeaseHours: 168 });
  const hostA = await createHost(admin, { name: `${base}-a`, poolId: pool.id });
  const hostB = await createHost(admin, { name: `${base}-b`, poolId: pool.id });
  return { admin, pool, hostA, hostB };
}

test("[CALENDAR] a researcher drags a free slot next week and books it; a drag over taken time shows why not", async ({ page }) => {
  const { admin, pool, hostA } = await setUp();
  const project = await createProject(admin, { name: uniqueName("course") });
  const other = await createProject(admin, { name: uniqueName("rival") });
  const ann = await registerResearcher("ann", 0);
  const bob = await registerResearcher("bob", 0);
  await addMember(admin, project.id, ann.email);
  await addMember(admin, other.id, bob.email);

  await signIn(page, ann.email, PASSWORD);
  await openCalendar(page, pool);
  // Tuesday 09:00 to 18:00 of next week, on host a.
  await dragSlot(page, hostA.name, 24 + 9, 24 + 17);
  const dialog = page.getByRole("dialog", { name: `Book hosts of ${pool.name}` });
  await expect(dialog.getByLabel("Start", { exact: true })).toHaveValue(/T09:00$/);
  await expect(dialog.getByLabel("End", { exact: true })).toHaveValue(/T18:00$/);
  await expect(dialog.getByText(`Exactly the hosts selected: ${hostA.name}`)).toBeVisible();
  await dialog.getByLabel("Title").fill("Tuesday lab");
  await dialog.getByRole("button", { name: "Book" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(`Booked: ${hostA.name},`)).toBeVisible();
  const block = page.getByRole("img", { name: new RegExp(`^Reservation of ${hostA.name} \\(yours\\), .*: Tuesday lab$`) });
  await expect(block).toBeVisible();
  // The week shown is in the address: a reload stays on next week.
  await page.reload();
  await expect(block).toBeVisible();

  // The booking is real: the pool's timeline, seen by an admin, has it on host a.
  const week = await apiOk<{ items: { kind: string; hostId: string; projectName: string; title: string | null }[] }>(admin, "GET", `/api/v1/pools/${pool.id}/timeline?from=${new Date().toISOString()}&to=${new Date(Date.now() + 14 * 86400_000).toISOString()}`, undefined, 200);
  expect(week.items).toEqual([expect.objectContaining({ kind: "reservation", hostId: hostA.id, projectName: project.name, title: "Tuesday lab" })]);

  // Ann's feed of her bookings, read without a session, has it.
  await page.getByRole("button", { name: "Feed of my bookings" }).click();
  const url = await page.getByLabel("Feed address").inputValue();
  expect(url).toMatch(/\/calendar\/kiln_cal_[A-Za-z0-9_-]+\.ics$/);
  const ics = await (await fetch(url)).text();
  expect(ics).toContain("BEGIN:VCALENDAR");
  expect(ics).toContain("SUMMARY:Kiln reservation: Tuesday lab");

  // Bob sees Ann's time by her project only, and dragging over it is refused with the reason.
  await page.context().clearCookies();
  await signIn(page, bob.email, PASSWORD);
  await openCalendar(page, pool);
  const theirs = page.getByRole("img", { name: new RegExp(`^Reservation of ${hostA.name} \\(project ${project.name}\\)`) });
  await expect(theirs).toBeVisible();
  await expect(theirs).not.toHaveAccessibleName(/Tuesday lab/);
  await expect(theirs).not.toHaveAccessibleName(new RegExp(ann.email.replace(/[.+]/g, "\\$&")));
  await dragSlot(page, hostA.name, 24 + 12, 24 + 13);
  await dialog.getByRole("button", { name: "Book" }).click();
  const refusal = dialog.getByRole("alert");
  await expect(refusal).toContainText(`${hostA.name} reserved by project ${project.name}`);
  await expect(refusal).toContainText("Nothing was reserved.");
});

test("[CALENDAR] an admin takes the whole pool out of service by dragging in Maintenance mode", async ({ page }) => {
  const { admin, pool, hostA, hostB } = await setUp();
  const { email } = await createAdmin(admin);
  await signIn(page, email, PASSWORD);
  await openCalendar(page, pool);
  const toggle = page.getByRole("button", { name: "Maintenance", exact: true });
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  // Wednesday 10:00 to 12:00 of next week, across both hosts' rows.
  await dragSlot(page, hostA.name, 48 + 10, 48 + 11, hostB.name);
  const dialog = page.getByRole("dialog", { name: `Maintenance of ${pool.name}` });
  await expect(dialog.getByLabel("Out of service")).toHaveValue("pool");
  await expect(dialog.getByLabel("Start", { exact: true })).toHaveValue(/T10:00$/);
  await expect(dialog.getByLabel("End", { exact: true })).toHaveValue(/T12:00$/);
  await dialog.getByLabel("Reason").fill("PDU swap");
  await dialog.getByRole("button", { name: "Add maintenance window" }).click();
  await expect(dialog).toBeHidden();
  // One window for the pool, drawn on every host's row.
  const blocks = page.getByRole("img", { name: /^Maintenance of the whole pool, .*: PDU swap$/ });
  await expect(blocks).toHaveCount(2);
  const windows = await apiOk<{ data: { poolId: string | null; hostId: string | null; reason: string }[] }>(admin, "GET", `/api/v1/maintenance-windows?poolId=${pool.id}`, undefined, 200);
  expect(windows.data).toEqual([expect.objectContaining({ poolId: pool.id, hostId: null, reason: "PDU swap" })]);
});
