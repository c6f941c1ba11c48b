// POST /api/uploads — create a tus upload of a new image version; HEAD/PATCH /api/uploads/:id — resume it; DELETE — cancel
// The tus 1.0 protocol (README "Uploading an image with curl", docs/images.md); session or bearer token.
import { handleUploadRequest } from "@/lib/uploads/tus-server";

export const dynamic = "force-dynamic";

export const POST = (req: Request) => handleUploadRequest(req);
export const HEAD = (req: Request) => handleUploadRequest(req);
export const PATCH = (req: Request) => handleUploadRequest(req);
export const DELETE = (req: Request) => handleUploadRequest(req);
export const OPTIONS = (req: Request) => handleUploadRequest(req);
