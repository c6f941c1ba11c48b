// What the provisioning components receive: the API's view of a run (GET /api/v1/deployments/:id).
export type { DeploymentView } from "@/lib/deployments/views";

export type ImageOption = { id: string; name: string; latestVersion: number | null };
export type TemplateOption = {
  id: string;
  name: string;
  kind: "system" | "unattended";
  format?: string;
  variables?: { name: string; description?: string; default?: string }[];
  /** The latest version's default post-install repository (docs/post-install.md). */
  postInstall?: { gitUrl: string; ref: string; path: string; kind: "script" | "ansible-playbook" } | null;
};

/** The holder's saved choices (boot settings): the dialog starts from them and saves them back. */
export type ReinstallDefaults = { systemTemplateId: string | null; unattendedTemplateId: string | null; vars: Record<string, unknown>; preferredMac: string | null; hostVars: Record<string, unknown> };

/** One event of the host's live feed (GET /api/v1/hosts/:id/events). */
export type FeedEvent = { id: number; kind: string; deploymentId: string; [k: string]: unknown };
