// An upload in progress is shown as such (not "No versions yet"), and bytes Kiln does not
// recognise as a disk image become a ready version that says so, in the list, on its page
// and in the API.
import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { adminToken, apiOk } from "../support/api";
import { createImage } from "../support/images";
import { ADMIN } from "../support/state";
import { signIn } from "../support/ui";

test("[IMAGES] an upload in progress is shown, and random bytes become a ready version that warns it is not a disk image", async ({ page }) => {
  const token = await adminToken("image-unknown");
  const image = await createImage(token, `noise-${Date.now().toString(36)}`);
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto(`/images/${image.id}`);
  await expect(page.getByText("No versions yet.")).toBeVisible();

  // Hold the upload's creation for a moment: until it answers, no version exists to list.
  await page.route("**/api/uploads", async (route) => {
    if (route.request().method() === "POST") await new Promise((r) => setTimeout(r, 2500));
    await route.continue();
  });
  await page.getByLabel("Image file").setInputFiles({ name: "noise.bin", mimeType: "application/octet-stream", buffer: randomBytes(256 * 1024) });
  await page.getByRole("button", { name: /^Upload / }).click();
  const inProgress = page.getByTestId("versions-upload-in-progress");
  await expect(inProgress).toContainText("Uploading noise.bin");
  await expect(page.getByText("No versions yet.")).toHaveCount(0);

  const row = page.getByTestId("version-row-1");
  await expect(row.getByTestId("version-state")).toHaveText("ready", { timeout: 30_000 });
  await expect(row.getByTestId("version-warning")).toContainText("Not recognised as a disk image");
  await row.getByRole("link", { name: "v1" }).click();
  await expect(page.getByTestId("version-warning")).toContainText("Kiln could not recognise this file as a disk image");

  const v = await apiOk<{ format: string; warnings: string[] }>(token, "GET", `/api/v1/images/${image.id}/versions/1`, undefined, 200);
  expect(v.format).toBe("unknown");
  expect(v.warnings).toEqual([expect.stringMatching(/^Kiln could not recognise this file as a disk image/)]);
});
