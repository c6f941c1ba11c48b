// The Pools operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as inventory from "../../validation/inventory";
import { paginationSchema } from "../../validation/common";
import { poolCreateSchema, poolUpdateSchema } from "../../validation/inventory";
import { POOL_ID, OK_TRUE, created, notFound, ok, paged, tagRoutes } from "./shapes";

const POOL_404 = notFound("No such pool.");

export const POOL_ROUTES = tagRoutes("Pools", [
  {
    method: "GET", path: "/api/v1/pools", operationId: "listPools", auth: "user",
    summary: "List pools",
    description: "Every pool with its policy, its number of hosts and how many are available now.",
    query: paginationSchema,
    success: paged("A page of pools.", inventory.poolListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/pools", operationId: "createPool", auth: "admin",
    summary: "Create a pool",
    body: poolCreateSchema,
    success: created("The new pool.", inventory.poolViewSchema),
  },
  {
    method: "GET", path: "/api/v1/pools/{id}", operationId: "getPool", auth: "user", params: POOL_ID,
    summary: "A pool",
    success: ok("The pool with its number of hosts.", inventory.poolWithCountSchema),
    errors: [POOL_404],
  },
  {
    method: "GET", path: "/api/v1/pools/{id}/matches", operationId: "getPoolMatches", auth: "user", params: POOL_ID,
    summary: "How many free hosts of a pool meet hardware criteria",
    description:
      "The criteria of a lease (tags, minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps): how many hosts are free now, how many meet them all, " +
      "how many meet each on its own, and how many have no hardware facts yet. The lease dialog shows it as you type. A count, not a reservation.",
    query: inventory.poolMatchQuerySchema,
    success: ok("`{ free, matching, withoutFacts, criteria }`.", inventory.poolMatchResponseSchema),
    errors: [POOL_404],
  },
  {
    method: "PATCH", path: "/api/v1/pools/{id}", operationId: "updatePool", auth: "admin", params: POOL_ID,
    summary: "Change a pool's name, description or lease policy",
    body: poolUpdateSchema,
    success: ok("The pool after the change.", inventory.poolViewSchema),
    errors: [POOL_404],
  },
  {
    method: "DELETE", path: "/api/v1/pools/{id}", operationId: "deletePool", auth: "admin", params: POOL_ID,
    summary: "Delete a pool",
    description: "Its hosts stay, outside any pool.",
    success: OK_TRUE,
    errors: [POOL_404],
  },
]);
