// The images domain without bytes: sharing rules, search and paging, version numbering and
// `latest`, and the audit trail.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "@/db/queries/audit";
import { insertImageVersion, nextImageVersion, refreshLatestVersion } from "@/db/queries/images";
import type { UserRow } from "@/db/schema";
import { actorOf, type Actor } from "@/lib/access/actor";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { createImage, deleteImage, deleteImageVersion, getImage, getImageVersion, listImages, updateImage, updateImageVersion } from "./images";

const t = await useTestDb();

let owner: Actor;
let other: Actor;
let admin: Actor;
let projectId: string;
let ownerUser: UserRow;

async function readyVersion(imageId: string) {
  const version = await nextImageVersion(t.db, imageId);
  await insertImageVersion(t.db, { imageId, version, state: "ready", sizeBytes: 100 * version, sha256: "a".repeat(64), format: "raw", uploadedByUserId: ownerUser.id, readyAt: new Date() });
  await refreshLatestVersion(t.db, imageId);
  return version;
}

beforeAll(async () => {
  ownerUser = (await createActiveUser(t.db)).user;
  owner = actorOf(ownerUser, null);
  other = actorOf((await createActiveUser(t.db)).user, null);
  admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  projectId = (await createProject(t.db, admin, { name: `img-${randomBytes(3).toString("hex")}` })).id;
  await addProjectMember(t.db, admin, projectId, { userId: ownerUser.id });
});

describe("images", () => {
  it("creates private images; only admins publish, and only to projects one belongs to", async () => {
    const image = await createImage(t.db, owner, { name: "debian-12", description: "base" });
    expect(image).toMatchObject({ name: "debian-12", visibility: "private", ownerEmail: ownerUser.email, latestVersion: null, versionCount: 0, canEdit: true });
    await expectAppError(createImage(t.db, owner, { name: "x", visibility: "public" }), "validation", /Only administrators publish/);
    await expectAppError(createImage(t.db, other, { name: "x", visibility: "project", projectId }), "validation", /projects you belong to/);
    await expectAppError(createImage(t.db, owner, { name: "x", visibility: "project" }), "validation", /Choose the project/);
    await expectAppError(createImage(t.db, owner, { name: "a/b" }), "validation", /slashes/);
    expect((await createImage(t.db, admin, { name: "everyone", visibility: "public" })).visibility).toBe("public");
    const shared = await updateImage(t.db, owner, image.id, { visibility: "project", projectId });
    expect(shared).toMatchObject({ visibility: "project", projectId, projectName: expect.any(String) });
    await expectAppError(updateImage(t.db, other, image.id, { name: "mine now" }), "not_found");
  });

  it("lists what each caller may see, searched by name or description and paged", async () => {
    const tag = randomBytes(3).toString("hex");
    for (let i = 0; i < 5; i++) await createImage(t.db, owner, { name: `rocky-${tag}-${i}`, description: i === 4 ? `special ${tag}` : "" });
    const page = await listImages(t.db, owner, { q: `rocky-${tag}`, per_page: "2", page: "2" });
    expect(page.pagination).toEqual({ page: 2, perPage: 2, total: 5 });
    expect(page.data.map((i) => i.name)).toEqual([`rocky-${tag}-2`, `rocky-${tag}-3`]);
    expect((await listImages(t.db, owner, { q: `special ${tag}` })).data.map((i) => i.name)).toEqual([`rocky-${tag}-4`]);
    expect((await listImages(t.db, other, { q: `rocky-${tag}` })).pagination.total).toBe(0);
    expect((await listImages(t.db, admin, { q: `rocky-${tag}` })).pagination.total).toBe(5);
    // A `%` is a character to search for, not a wildcard.
    expect((await listImages(t.db, owner, { q: "%" })).pagination.total).toBe(0);
  });

  it("numbers versions without reuse; latest follows the newest ready version", async () => {
    const image = await createImage(t.db, owner, { name: "numbered" });
    const v1 = await readyVersion(image.id);
    const v2 = await readyVersion(image.id);
    expect((await getImageVersion(t.db, owner, image.id, "latest")).version).toBe(v2);
    await deleteImageVersion(t.db, owner, image.id, "latest");
    expect((await getImageVersion(t.db, owner, image.id, "latest")).version).toBe(v1);
    const v3 = await readyVersion(image.id);
    expect(v3).toBe(3);
    const got = await getImage(t.db, owner, image.id);
    expect(got).toMatchObject({ latestVersion: 3, latestSizeBytes: 300, latestFormat: "raw", versionCount: 2, totalBytes: 400 });
    expect(got.versions.map((v) => v.version)).toEqual([3, 1]);
    expect(got.versions[0]).toMatchObject({ blobUrl: `/images/${image.id}/versions/3/blob`, uploadUrl: null, uploaderEmail: ownerUser.email });
    await deleteImageVersion(t.db, owner, image.id, 3);
    await deleteImageVersion(t.db, owner, image.id, 1);
    await expectAppError(getImageVersion(t.db, owner, image.id, "latest"), "not_found", /no ready version yet/);
    await expectAppError(deleteImageVersion(t.db, owner, image.id, 7), "not_found");
  });

  it("changes notes only for the owner or an admin, and audits every change", async () => {
    const image = await createImage(t.db, owner, { name: "audited" });
    await readyVersion(image.id);
    expect((await updateImageVersion(t.db, owner, image.id, 1, { notes: "kernel 6.1" })).notes).toBe("kernel 6.1");
    expect((await updateImageVersion(t.db, admin, image.id, "latest", { notes: "by admin" })).notes).toBe("by admin");
    await expectAppError(updateImageVersion(t.db, other, image.id, 1, { notes: "x" }), "not_found");
    await updateImage(t.db, owner, image.id, { description: "d" });
    await deleteImage(t.db, owner, image.id);
    const actions = (await listAudit(t.db, { targetId: image.id, limit: 100, offset: 0 })).rows.map((a) => a.action).sort();
    expect(actions).toEqual(["image.create", "image.delete", "image.update", "image.version.update", "image.version.update"]);
  });
});
