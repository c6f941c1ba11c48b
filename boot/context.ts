import { postInstallContext, type PostInstall } from "./post-install";

// Builds the variables a template sees, from plain inputs only (boot/ never reads the
// database). Lease vars override host vars; nothing else of Kiln's state leaks in.

export type BootContextInput = {
  baseUrl: string;
  host: {
    name: string;
    macs: string[];
    interface: { mac: string; name: string };
    facts: Record<string, unknown>;
    cpuCores: number | null;
    memoryMb: number | null;
    disks: unknown[];
  };
  hostVars: Record<string, unknown>;
  leaseVars: Record<string, unknown>;
  user: { name: string; email: string; sshKeys: string[] } | null;
  image: { name: string; version: number; url: string; sha256: string; format: string; sizeBytes: number } | null;
  deployment: { id: string; action: string; token: string; postInstall?: PostInstall | null } | null;
  /** The lease's extra disks for this host, exported over NBD (lib/extra-disks), in order disk1, disk2…. */
  extraDisks?: ExtraDiskInput[];
};

export type ExtraDiskInput = { name: string; sizeBytes: number; host: string; port: number; exportName: string };

/**
 * What templates see of the extra disks: name, size, where the NBD export is (its name is the
 * secret that opens it, so it appears only in this host's own renders), the `host:port/export`
 * form the ramdisk's kiln.disks= argument and `nbd-client` take, and the device the ramdisk
 * attaches it as (/dev/nbd1… — nbd0 is a diskless root's).
 */
function extraDisksContext(disks: ExtraDiskInput[]) {
  return disks.map((d, i) => ({
    name: d.name,
    size: d.sizeBytes,
    device: `/dev/nbd${i + 1}`,
    nbd: { host: d.host, port: d.port, export: d.exportName, uri: `nbd://${d.host}:${d.port}/${d.exportName}`, spec: `${d.host}:${d.port}/${d.exportName}` },
  }));
}

/** URLs under /boot/<mac>/<token>/ that the per-deployment files and callbacks use. */
export function deploymentUrls(baseUrl: string, mac: string, token: string) {
  const root = `${baseUrl}/boot/${mac.replace(/:/g, "-")}/${token}`;
  return {
    root,
    unattended: `${root}/unattended`,
    nocloud: `${root}/`,
    user_data: `${root}/user-data`,
    meta_data: `${root}/meta-data`,
    log: `${root}/log`,
    done: `${root}/done`,
    failed: `${root}/failed`,
  };
}

export function buildBootContext(input: BootContextInput): Record<string, unknown> {
  const { host } = input;
  return {
    base_url: input.baseUrl,
    host: {
      name: host.name,
      macs: host.macs,
      interface: host.interface,
      facts: { ...host.facts, cores: host.cpuCores, memory_mb: host.memoryMb, disks: host.disks },
      cores: host.cpuCores,
      memory_mb: host.memoryMb,
    },
    vars: { ...input.hostVars, ...input.leaseVars },
    user: input.user ? { name: input.user.name, email: input.user.email, ssh_keys: input.user.sshKeys } : { name: "", email: "", ssh_keys: [] },
    image: input.image ? { name: input.image.name, version: input.image.version, url: input.image.url, sha256: input.image.sha256, format: input.image.format, size: input.image.sizeBytes } : null,
    deployment: input.deployment
      ? (() => {
          const urls = deploymentUrls(input.baseUrl, host.interface.mac, input.deployment.token);
          // Null unless the run names a repository; templates test it with {% if deployment.post_install %}.
          const postInstall = postInstallContext(input.deployment.postInstall, urls.root, input.deployment.id);
          return { id: input.deployment.id, action: input.deployment.action, token: input.deployment.token, urls, post_install: postInstall };
        })()
      : null,
    extra_disks: extraDisksContext(input.extraDisks ?? []),
    kiln: {
      ramdisk: { kernel: `${input.baseUrl}/boot/ramdisk/vmlinuz`, initrd: `${input.baseUrl}/boot/ramdisk/initrd.img` },
      // The ramdisk's kernel argument that attaches every extra disk ("" when there are none).
      extra_disks_arg: input.extraDisks?.length ? `kiln.disks=${input.extraDisks.map((d) => `${d.host}:${d.port}/${d.exportName}`).join(",")}` : "",
    },
  };
}

/** A stand-in deployment for previews: same shape, a token that works nowhere. */
export const PREVIEW_TOKEN = "preview-token-not-valid-for-boot";

/** One name a template can use, with its value as it would print (shortened), for the editor's list. */
export type ContextVariable = { name: string; value: string; type: "text" | "number" | "boolean" | "none" | "list" | "dict" };

/**
 * Every name a template can read in `context`, as dotted paths (host.interface.mac), with
 * values: dictionaries are opened (down to `maxDepth`), lists are shown whole. Bounded, so a
 * host with huge facts still answers quickly.
 */
export function listContextVariables(context: Record<string, unknown>, opts: { maxDepth?: number; max?: number; maxValueChars?: number } = {}): ContextVariable[] {
  const { maxDepth = 4, max = 500, maxValueChars = 120 } = opts;
  const out: ContextVariable[] = [];
  const short = (s: string) => (s.length > maxValueChars ? `${s.slice(0, maxValueChars - 1)}…` : s);
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number) => {
    for (const key of Object.keys(obj)) {
      if (out.length >= max) return;
      const v = obj[key];
      const name = prefix ? `${prefix}.${key}` : key;
      if (typeof v === "function" || v === undefined) continue;
      if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) {
        if (depth + 1 < maxDepth && Object.keys(v).length > 0) walk(v as Record<string, unknown>, name, depth + 1);
        else out.push({ name, value: short(JSON.stringify(v) ?? "{}"), type: "dict" });
      } else if (Array.isArray(v)) out.push({ name, value: short(JSON.stringify(v) ?? "[]"), type: "list" });
      else if (v === null) out.push({ name, value: "None", type: "none" });
      else if (typeof v === "boolean") out.push({ name, value: v ? "True" : "False", type: "boolean" });
      else if (typeof v === "number") out.push({ name, value: String(v), type: "number" });
      else out.push({ name, value: short(v instanceof Date ? v.toISOString() : String(v)), type: "text" });
    }
  };
  walk(context, "", 0);
  return out;
}
