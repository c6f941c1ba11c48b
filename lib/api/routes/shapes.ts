// Path parameters and refusals several tags' operations share.
import type { ApiResponse } from "./api-route";

export const HOST_ID = { id: "The host's id (a UUID)." };
export const POOL_ID = { id: "The pool's id (a UUID)." };
export const LEASE_ID = { id: "The lease's id (a UUID)." };
export const HOLDER_HOST_404: ApiResponse = { status: 404, description: "No such host, or not one the caller holds." };
export const LEASE_404: ApiResponse = { status: 404, description: "No such lease, or not the caller's." };
export const PROJECT_404: ApiResponse = { status: 404, description: "No such project, or the caller is not a member." };
