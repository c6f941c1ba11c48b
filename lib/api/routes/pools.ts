// The Pools operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as common from "../../validation/common";
import * as inventory from "../../validation/inventory";
import { paginationSchema } from "../../validation/common";
import { poolCreateSchema, poolUpdateSchema } from "../../validation/inventory";
import type { ApiRoute } from "./api-route";
import { POOL_ID } from "./shapes";

export const POOL_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/v1/pools", operationId: "listPools", tag: "Pools", auth: "user",
    summary: "List pools",
    description: "Every pool with its policy, its number of hosts and how many are available now.",
    query: paginationSchema,
    success: { status: 200, description: "A page of pools.", list: true, schema: inventory.poolListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/pools", operationId: "createPool", tag: "Pools", auth: "admin",
    summary: "Create a pool",
    body: poolCreateSchema,
    success: { status: 201, description: "The new pool.", schema: inventory.poolViewSchema },
  },
  {
    method: "GET", path: "/api/v1/pools/{id}", operationId: "getPool", tag: "Pools", auth: "user", params: POOL_ID,
    summary: "A pool",
    success: { status: 200, description: "The pool with its number of hosts.", schema: inventory.poolWithCountSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },
  {
    method: "GET", path: "/api/v1/pools/{id}/matches", operationId: "getPoolMatches", tag: "Pools", auth: "user", params: POOL_ID,
    summary: "How many free hosts of a pool meet hardware criteria",
    description:
      "The criteria of a lease (tags, minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps): how many hosts are free now, how many meet them all, " +
      "how many meet each on its own, and how many have no hardware facts yet. The lease dialog shows it as you type. A count, not a reservation.",
    query: inventory.poolMatchQuerySchema,
    success: { status: 200, description: "`{ free, matching, withoutFacts, criteria }`.", schema: inventory.poolMatchResponseSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },
  {
    method: "PATCH", path: "/api/v1/pools/{id}", operationId: "updatePool", tag: "Pools", auth: "admin", params: POOL_ID,
    summary: "Change a pool's name, description or lease policy",
    body: poolUpdateSchema,
    success: { status: 200, description: "The pool after the change.", schema: inventory.poolViewSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },
  {
    method: "DELETE", path: "/api/v1/pools/{id}", operationId: "deletePool", tag: "Pools", auth: "admin", params: POOL_ID,
    summary: "Delete a pool",
    description: "Its hosts stay, outside any pool.",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such pool." }],
  },
];
