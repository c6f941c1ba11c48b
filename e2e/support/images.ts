// Images for the deploy specs: uploaded through tus like any client would, then waited on
// until the worker has verified them.
import { readFile } from "node:fs/promises";
import { expect } from "@playwright/test";
import { tusCreate, tusPatch } from "../../test/harness/tus";
import { api, apiOk } from "./api";
import { readState } from "./state";

/** Uploads `file` as the next version of `imageId`; resolves with the ready version. */
export async function uploadVersion(token: string, imageId: string, file: string, opts: { timeoutMs?: number } = {}): Promise<{ version: number; sha256: string; sizeBytes: number; format: string }> {
  const bytes = await readFile(file);
  const list = async () => ((await api(token, "GET", `/api/v1/images/${imageId}/versions`)).body.data ?? []) as any[];
  // Uploads to one image are serial here, so ours is the one after the newest so far.
  const next = Math.max(0, ...(await list()).map((v) => v.version as number)) + 1;
  const created = await tusCreate(`${readState().baseURL}/api/uploads`, token, bytes.length, { imageId, filename: file.split("/").pop()! });
  expect(created.status, created.body).toBe(201);
  const patched = await tusPatch(created.location!, token, 0, bytes);
  expect(patched.status, patched.body).toBe(204);
  let ready: any = null;
  await expect
    .poll(
      async () => {
        ready = (await list()).find((v) => v.version === next);
        return ready?.state === "failed" ? `failed: ${ready.failureReason}` : ready?.state;
      },
      { timeout: opts.timeoutMs ?? 60_000 },
    )
    .toBe("ready");
  return ready;
}

export async function createImage(token: string, name: string): Promise<{ id: string; name: string }> {
  return apiOk(token, "POST", "/api/v1/images", { name }, 201);
}
