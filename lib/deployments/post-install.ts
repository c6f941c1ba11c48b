// Post-install configuration from a git repository (docs/post-install.md), the run side: which
// repository a run gets, and the refusal of a run whose templates would never run it (the run
// would otherwise wait out its first-boot deadline for a report that cannot come).
import type { PostInstall } from "@/boot/post-install";
import { POST_INSTALL_PATHS } from "@/boot/post-install";
import { AppError } from "../errors";
import type { PostInstallInput } from "../validation/deployments";

/**
 * The run's repository: the request's (null there means none), else the unattended template's
 * default. Only installs and image deploys have an installed system to run it (the schema
 * refuses the rest when asked; a template default does not apply to them).
 */
export function choosePostInstall(p: { action: string; requested: PostInstallInput | null | undefined; templateDefault?: PostInstall | null }): PostInstall | undefined {
  if (p.action !== "install" && p.action !== "deploy_image") return undefined;
  if (p.requested === null) return undefined;
  return p.requested ?? p.templateDefault ?? undefined;
}

/** Refuses (400, nothing started) a run with post-install whose rendered unattended file does not install the runner. */
export function assertPostInstallRendered(p: { postInstall: PostInstall | undefined; unattended: { name: string; version: number } | null; renderedUnattended: string | null }): void {
  if (!p.postInstall) return;
  if (!p.unattended || p.renderedUnattended === null) {
    throw AppError.field("postInstall", "Post-install configuration needs an unattended template that runs it on the installed system (cloud-init, preseed or kickstart); choose one. Nothing was started.");
  }
  if (!p.renderedUnattended.includes(POST_INSTALL_PATHS.runner)) {
    throw AppError.field(
      "postInstall",
      `“${p.unattended.name}” v${p.unattended.version} does not run post-install configuration (its output never uses deployment.post_install): choose a built-in template, or add it to yours (docs/post-install.md). Nothing was started.`,
    );
  }
}
