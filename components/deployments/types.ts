// What the provisioning components receive: the API's view of a run (GET /api/v1/deployments/:id).
import type { DeploymentView } from "@/lib/deployments/deployments";

export type RunView = DeploymentView;

export type ImageOption = { id: string; name: string; latestVersion: number | null };
export type TemplateOption = { id: string; name: string; kind: "system" | "unattended" };

/** One event of the host's live feed (GET /api/v1/hosts/:id/events). */
export type FeedEvent = { id: number; kind: string; deploymentId: string; [k: string]: unknown };
