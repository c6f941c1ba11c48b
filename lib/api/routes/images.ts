// The Images operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as images from "../../validation/images";
import { paginationSchema } from "../../validation/common";
import { imageCreateSchema, imageListQuerySchema, imageUpdateSchema, imageVersionUpdateSchema } from "../../validation/images";
import { OK_TRUE, conflict, created, forbidden, idParam, notFound, ok, paged, tagRoutes } from "./shapes";

const IMAGE_ID = idParam("image");
const IMAGE_VERSION = { ...IMAGE_ID, version: "A version number, or `latest` (the newest ready version)." };
const IMAGE_404 = notFound("No such image (or version), or one the caller may not see (private images are not acknowledged).");
const IMAGE_403 = forbidden("The caller may see the image but only its owner (or an administrator) changes it.");

export const IMAGE_ROUTES = tagRoutes("Images", [
  {
    method: "GET", path: "/api/v1/images", operationId: "listImages", auth: "user",
    summary: "List images",
    description: "Public images, the caller's own, and those shared with the caller's projects (administrators: all), by name. `q` searches name and description.",
    query: imageListQuerySchema,
    success: paged("A page of images with their latest ready version, version count and stored bytes.", images.imageListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/images", operationId: "createImage", auth: "user",
    summary: "Create an image (then upload versions to it)",
    description: "Private by default; `project` shares it with a project the caller belongs to (read-only for the other members); only administrators make images public.",
    body: imageCreateSchema,
    success: created("The new image, without versions.", images.imageViewSchema),
  },
  {
    method: "GET", path: "/api/v1/images/{id}", operationId: "getImage", auth: "user", params: IMAGE_ID,
    summary: "An image with its versions",
    success: ok("The image and `versions`, newest first.", images.imageDetailSchema),
    errors: [IMAGE_404],
  },
  {
    method: "PATCH", path: "/api/v1/images/{id}", operationId: "updateImage", auth: "user", params: IMAGE_ID,
    summary: "Rename, describe or share an image",
    body: imageUpdateSchema,
    success: ok("The image after the change.", images.imageViewSchema),
    errors: [IMAGE_404, IMAGE_403],
  },
  {
    method: "DELETE", path: "/api/v1/images/{id}", operationId: "deleteImage", auth: "user", params: IMAGE_ID,
    summary: "Delete an image with all its versions and their bytes",
    success: OK_TRUE,
    errors: [IMAGE_404, IMAGE_403, conflict("A pending or running deployment uses one of its versions.")],
  },
  {
    method: "GET", path: "/api/v1/images/{id}/versions", operationId: "listImageVersions", auth: "user", params: IMAGE_ID,
    summary: "An image's versions, newest first",
    description: "Each with its state (`uploading`, `verifying`, `ready`, `failed` with `failureReason`), size, sha256, detected format, uploader and notes.",
    query: paginationSchema,
    success: paged("A page of versions.", images.imageVersionListResponseSchema),
    errors: [IMAGE_404],
  },
  {
    method: "GET", path: "/api/v1/images/{id}/versions/{version}", operationId: "getImageVersion", auth: "user", params: IMAGE_VERSION,
    summary: "One version, with the deployments that used it",
    success: ok("The version, its `blobUrl` when ready, and `usedBy` (deployments, newest first).", images.imageVersionDetailSchema),
    errors: [IMAGE_404],
  },
  {
    method: "PATCH", path: "/api/v1/images/{id}/versions/{version}", operationId: "updateImageVersion", auth: "user", params: IMAGE_VERSION,
    summary: "Change a version's notes (its bytes never change)",
    body: imageVersionUpdateSchema,
    success: ok("The version after the change.", images.imageVersionDetailSchema),
    errors: [IMAGE_404, IMAGE_403],
  },
  {
    method: "DELETE", path: "/api/v1/images/{id}/versions/{version}", operationId: "deleteImageVersion", auth: "user", params: IMAGE_VERSION,
    summary: "Delete a version and its bytes (an upload in progress is cancelled)",
    description: "Version numbers are never reused; `latest` moves to the newest remaining ready version.",
    success: ok("`{ ok: true, version }`.", images.imageVersionDeleteResponseSchema),
    errors: [IMAGE_404, IMAGE_403, conflict("A pending or running deployment uses this version.")],
  },
]);
