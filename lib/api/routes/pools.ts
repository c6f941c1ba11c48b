// The Pools operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as pools from "../../validation/pools";
import { paginationSchema } from "../../validation/common";
import { poolCreateSchema, poolUpdateSchema } from "../../validation/pools";
import { POOL_ID, OK_TRUE, created, notFound, ok, paged, tagRoutes } from "./shapes";

const POOL_404 = notFound("No such pool.");

export const POOL_ROUTES = tagRoutes("Pools", [
  {
    method: "GET", path: "/api/v1/pools", operationId: "listPools", auth: "user",
    summary: "List pools",
    description: "Every pool with its policy, its number of hosts and how many are available now.",
    query: paginationSchema,
    success: paged("A page of pools.", pools.poolListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/pools", operationId: "createPool", auth: "admin",
    summary: "Create a pool",
    body: poolCreateSchema,
    success: created("The new pool.", pools.poolViewSchema),
  },
  {
    method: "GET", path: "/api/v1/pools/{id}", operationId: "getPool", auth: "user", params: POOL_ID,
    summary: "A pool",
    success: ok("The pool with its number of hosts.", pools.poolWithCountSchema),
    errors: [POOL_404],
  },
  {
    method: "GET", path: "/api/v1/pools/{id}/matches", operationId: "getPoolMatches", auth: "user", params: POOL_ID,
    summary: "How many free hosts of a pool meet hardware criteria",
    description:
      "The criteria of a lease (tags, minCores, minMemoryMb, minDiskGb, diskType, firmware, cpuModel, minNicSpeedMbps): how many hosts are free now, how many meet them all, " +
      "how many meet each on its own, and how many have no hardware facts yet. The lease dialog shows it as you type. A count, not a reservation.",
    query: pools.poolMatchQuerySchema,
    success: ok("`{ free, matching, withoutFacts, criteria }`.", pools.poolMatchResponseSchema),
    errors: [POOL_404],
  },
  {
    method: "PATCH", path: "/api/v1/pools/{id}", operationId: "updatePool", auth: "admin", params: POOL_ID,
    summary: "Change a pool's name, description or lease policy",
    body: poolUpdateSchema,
    success: ok("The pool after the change.", pools.poolViewSchema),
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
