// The Images operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as common from "../../validation/common";
import * as images from "../../validation/images";
import { paginationSchema } from "../../validation/common";
import { imageCreateSchema, imageListQuerySchema, imageUpdateSchema, imageVersionUpdateSchema } from "../../validation/images";
import type { ApiResponse, ApiRoute } from "./api-route";

const IMAGE_ID = { id: "The image's id (a UUID)." };
const IMAGE_VERSION = { id: "The image's id (a UUID).", version: "A version number, or `latest` (the newest ready version)." };
const IMAGE_404: ApiResponse = { status: 404, description: "No such image (or version), or one the caller may not see (private images are not acknowledged)." };
const IMAGE_403: ApiResponse = { status: 403, description: "The caller may see the image but only its owner (or an administrator) changes it." };

export const IMAGE_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/v1/images", operationId: "listImages", tag: "Images", auth: "user",
    summary: "List images",
    description: "Public images, the caller's own, and those shared with the caller's projects (administrators: all), by name. `q` searches name and description.",
    query: imageListQuerySchema,
    success: { status: 200, description: "A page of images with their latest ready version, version count and stored bytes.", list: true, schema: images.imageListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/images", operationId: "createImage", tag: "Images", auth: "user",
    summary: "Create an image (then upload versions to it)",
    description: "Private by default; `project` shares it with a project the caller belongs to (read-only for the other members); only administrators make images public.",
    body: imageCreateSchema,
    success: { status: 201, description: "The new image, without versions.", schema: images.imageViewSchema },
  },
  {
    method: "GET", path: "/api/v1/images/{id}", operationId: "getImage", tag: "Images", auth: "user", params: IMAGE_ID,
    summary: "An image with its versions",
    success: { status: 200, description: "The image and `versions`, newest first.", schema: images.imageDetailSchema },
    errors: [IMAGE_404],
  },
  {
    method: "PATCH", path: "/api/v1/images/{id}", operationId: "updateImage", tag: "Images", auth: "user", params: IMAGE_ID,
    summary: "Rename, describe or share an image",
    body: imageUpdateSchema,
    success: { status: 200, description: "The image after the change.", schema: images.imageViewSchema },
    errors: [IMAGE_404, IMAGE_403],
  },
  {
    method: "DELETE", path: "/api/v1/images/{id}", operationId: "deleteImage", tag: "Images", auth: "user", params: IMAGE_ID,
    summary: "Delete an image with all its versions and their bytes",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [IMAGE_404, IMAGE_403, { status: 409, description: "A pending or running deployment uses one of its versions." }],
  },
  {
    method: "GET", path: "/api/v1/images/{id}/versions", operationId: "listImageVersions", tag: "Images", auth: "user", params: IMAGE_ID,
    summary: "An image's versions, newest first",
    description: "Each with its state (`uploading`, `verifying`, `ready`, `failed` with `failureReason`), size, sha256, detected format, uploader and notes.",
    query: paginationSchema,
    success: { status: 200, description: "A page of versions.", list: true, schema: images.imageVersionListResponseSchema },
    errors: [IMAGE_404],
  },
  {
    method: "GET", path: "/api/v1/images/{id}/versions/{version}", operationId: "getImageVersion", tag: "Images", auth: "user", params: IMAGE_VERSION,
    summary: "One version, with the deployments that used it",
    success: { status: 200, description: "The version, its `blobUrl` when ready, and `usedBy` (deployments, newest first).", schema: images.imageVersionDetailSchema },
    errors: [IMAGE_404],
  },
  {
    method: "PATCH", path: "/api/v1/images/{id}/versions/{version}", operationId: "updateImageVersion", tag: "Images", auth: "user", params: IMAGE_VERSION,
    summary: "Change a version's notes (its bytes never change)",
    body: imageVersionUpdateSchema,
    success: { status: 200, description: "The version after the change.", schema: images.imageVersionDetailSchema },
    errors: [IMAGE_404, IMAGE_403],
  },
  {
    method: "DELETE", path: "/api/v1/images/{id}/versions/{version}", operationId: "deleteImageVersion", tag: "Images", auth: "user", params: IMAGE_VERSION,
    summary: "Delete a version and its bytes (an upload in progress is cancelled)",
    description: "Version numbers are never reused; `latest` moves to the newest remaining ready version.",
    success: { status: 200, description: "`{ ok: true, version }`.", schema: images.imageVersionDeleteResponseSchema },
    errors: [IMAGE_404, IMAGE_403, { status: 409, description: "A pending or running deployment uses this version." }],
  },
];
