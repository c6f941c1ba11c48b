// The Records operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as records from "../../validation/records";
import { PROJECT_404, badRequest, conflict, created, forbidden, notFound, ok, paged, tagRoutes } from "./shapes";

const RECORD_ID = { id: "The run record's id (a UUID): its permanent id." };
const RECORD_404 = notFound("No such record, or one the caller may not read (unpublished records of other projects are not acknowledged).");
const RECORD_OR_HOST_404 = notFound("No such record (or one the caller may not read), or a host the caller does not hold.");

export const RECORD_ROUTES = tagRoutes("Records", [
  {
    method: "GET", path: "/api/v1/records", operationId: "listRunRecords", auth: "user",
    summary: "Run records of a host or a project",
    description: "Newest first. Researchers see the records of their projects' runs, their own, and published ones; administrators all. `projectId` of a project the caller is not in answers 404.",
    query: records.recordListQuerySchema,
    success: paged("A page of records.", records.recordListResponseSchema),
    errors: [PROJECT_404],
  },
  {
    method: "GET", path: "/api/v1/records/{id}", operationId: "getRunRecord", auth: "public", params: RECORD_ID,
    summary: "One run record: what ran, its sha256 and outcome",
    description:
      "`record` is frozen when the run is created; `recordSha256` is the sha256 of its canonical JSON (keys sorted at every level, no whitespace). `rendered` hashes the stored boot texts, which hold a per-run placeholder where the one-time token goes (never the token). `?download=1` answers the same as a file, `kiln-run-<id>.json`. Readable by the project's members, whoever ran it and administrators; by anyone, without signing in, once published.",
    query: records.recordGetQuerySchema,
    success: ok("The record.", records.recordViewSchema),
    errors: [RECORD_404],
  },
  {
    method: "POST", path: "/api/v1/records/{id}/publish", operationId: "publishRunRecord", auth: "user", params: RECORD_ID,
    summary: "Publish a run record: readable without signing in from now on",
    description: "For a leader of the record's project, or an administrator. No body. Publishing again changes nothing (the first date stays).",
    success: ok("The record.", records.recordViewSchema),
    errors: [RECORD_404, forbidden("The caller may read the record but is not a leader of its project.")],
  },
  {
    method: "GET", path: "/api/v1/records/{id}/diff", operationId: "diffRunRecord", auth: "user", params: RECORD_ID,
    summary: "What would differ if the record were re-run now",
    description: "A newer version of the image or templates (a re-run still uses the pinned ones), a pinned version that is gone, and with `hostId` (a host the caller holds) the host's hardware field by field against the record's facts. `summary` says it in sentences.",
    query: records.recordDiffQuerySchema,
    success: ok("The differences.", records.recordDiffSchema),
    errors: [RECORD_OR_HOST_404],
  },
  {
    method: "POST", path: "/api/v1/records/{id}/rerun", operationId: "rerunRunRecord", auth: "user", params: RECORD_ID,
    summary: "Re-run a record on hosts the caller holds",
    description: "Deploys the pinned image version, template versions, vars and options again, as one group over the chosen hosts (all of one lease). An image deploy's built-in boot template is Kiln's, at its current version.",
    body: records.recordRerunSchema,
    success: created("`{ groupId, deploymentIds }`.", records.recordRerunResponseSchema),
    errors: [
      badRequest("No hosts, or hosts of more than one lease."),
      RECORD_OR_HOST_404,
      conflict("A host is not leased or busy, or the pinned image version is gone."),
    ],
  },
]);
