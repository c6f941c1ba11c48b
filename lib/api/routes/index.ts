// The registry the OpenAPI document is built from: one entry per method of every route file
// under app/api (lib/api/openapi.test.ts fails when a handler is missing here, or an entry
// names a handler that does not exist). Request shapes are the very zod schemas the handlers
// and lib/ functions parse with, so the document cannot drift from what is accepted.
import type { ApiRoute } from "./api-route";
import { HOST_ROUTES } from "./hosts";
import { POOL_ROUTES } from "./pools";
import { CALENDAR_ROUTES } from "./calendar";
import { SITE_ROUTES } from "./sites";
import { PROJECT_ROUTES } from "./projects";
import { LEASE_ROUTES } from "./leases";
import { RESERVATION_ROUTES } from "./reservations";
import { TEMPLATE_ROUTES } from "./templates";
import { IMAGE_ROUTES } from "./images";
import { NETWORK_BOOT_ROUTES } from "./network-boot";
import { PROVISIONING_ROUTES } from "./provisioning";
import { RECORD_ROUTES } from "./records";
import { LAB_ACCESS_ROUTES } from "./lab-access";
import { AUDIT_ROUTES } from "./audit";
import { USER_ROUTES } from "./users";
import { DIRECTORY_ROUTES } from "./directory";
import { ACCOUNT_ROUTES } from "./account";
import { SESSION_ROUTES } from "./session";
import { VPN_GATEWAY_ROUTES } from "./vpn-gateway";
import { SYSTEM_ROUTES } from "./system";

export { API_TAGS, type ApiAuth, type ApiResponse, type ApiRoute, type ApiTag } from "./api-route";

/** Every operation, tag by tag; this order is the order of `paths` in the document. */
export const API_ROUTES: ApiRoute[] = [
  ...HOST_ROUTES,
  ...POOL_ROUTES,
  ...CALENDAR_ROUTES,
  ...SITE_ROUTES,
  ...PROJECT_ROUTES,
  ...LEASE_ROUTES,
  ...RESERVATION_ROUTES,
  ...TEMPLATE_ROUTES,
  ...IMAGE_ROUTES,
  ...NETWORK_BOOT_ROUTES,
  ...PROVISIONING_ROUTES,
  ...RECORD_ROUTES,
  ...LAB_ACCESS_ROUTES,
  ...AUDIT_ROUTES,
  ...USER_ROUTES,
  ...DIRECTORY_ROUTES,
  ...ACCOUNT_ROUTES,
  ...SESSION_ROUTES,
  ...VPN_GATEWAY_ROUTES,
  ...SYSTEM_ROUTES,
];

/**
 * Route files that are not part of the JSON API: Auth.js's own endpoints behind the session
 * cookie, and the tus upload endpoint (a binary protocol of its own, tus 1.0; README and
 * docs/images.md describe it).
 */
export const UNDOCUMENTED_ROUTE_FILES = ["app/api/auth/[...nextauth]/route.ts", "app/api/uploads/[[...path]]/route.ts"];
