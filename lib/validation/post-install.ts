// Post-install configuration from a git repository (docs/post-install.md): the one contract for a
// run's repository and a template's default.
import { z } from "zod";
import { POST_INSTALL_KINDS } from "@/boot/post-install";

const GIT_SCHEMES = ["http:", "https:", "git:"];

/** A repository URL the installed system clones: http, https or git, no credentials (they would show in the log and the rendered files). */
export const gitUrlSchema = z
  .string()
  .trim()
  .min(1, "Give the repository's URL.")
  .max(1000, "A repository URL is at most 1,000 characters.")
  .regex(/^[\x21-\x7e]+$/, "A repository URL has no spaces or control characters.")
  .superRefine((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: "custom", message: "Not a URL: give one like https://git.example.org/lab/setup.git." });
      return;
    }
    if (!GIT_SCHEMES.includes(url.protocol)) ctx.addIssue({ code: "custom", message: `Use an http, https or git URL (not ${url.protocol.replace(/:$/, "")}).` });
    else if (!url.hostname) ctx.addIssue({ code: "custom", message: "The URL names no server." });
    else if (url.username || url.password) ctx.addIssue({ code: "custom", message: "Put no credentials in the URL: it is shown in the run's log and written to the machine. Use a repository the machine can read without them." });
  });

/** A branch, tag or commit id: git's ref rules over a plain charset, nothing that could read as an option. */
export const gitRefSchema = z
  .string()
  .trim()
  .min(1, "Give a branch, tag or commit.")
  .max(200, "A ref is at most 200 characters.")
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._\/+-]*$/, "A ref is letters, digits and . _ / + - (a branch, tag or commit id), starting with a letter, digit or _.")
  .refine((v) => !v.includes("..") && !v.includes("//") && !v.endsWith("/") && !v.endsWith(".") && !v.endsWith(".lock") && !v.split("/").some((c) => c.startsWith(".")), "That is not a valid git ref (no '..', '//', a part starting with '.', or a trailing '/', '.' or '.lock').");

/** A file inside the repository: relative, no '..'. */
export const repoPathSchema = z
  .string()
  .trim()
  .min(1, "Give the path of the script or playbook in the repository.")
  .max(500, "A path is at most 500 characters.")
  .regex(/^[A-Za-z0-9_.][A-Za-z0-9._\/+@=,-]*$/, "A path is letters, digits and . _ / + @ = , - relative to the repository's root (site.yml, scripts/setup.sh).")
  .refine((v) => !v.split("/").some((c) => c === ".." || c === "") , "A path stays inside the repository: no '..' and no empty parts ('//', a trailing '/').");

export const postInstallSchema = z
  .object({
    gitUrl: gitUrlSchema,
    ref: gitRefSchema.default("main"),
    path: repoPathSchema,
    kind: z.enum(POST_INSTALL_KINDS, "Choose script (run with sh) or ansible-playbook.").default("script"),
  })
  .strict();
export type PostInstallInput = z.infer<typeof postInstallSchema>;
