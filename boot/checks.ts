// Structural checks of rendered output, shown as warnings in the editor's preview and
// run over every built-in in the tests. They catch broken output, not wrong intent.
import { parse as parseYaml } from "yaml";

export type CheckFormat = "ipxe" | "preseed" | "kickstart" | "cloud-init" | "script";

const IPXE_COMMANDS = new Set(
  "autoboot boot chain colour console cpair cpuid dhcp echo exit fcstat fcels goto ifclose ifconf ifopen ifstat imgargs imgexec imgfetch imgfree imgload imgselect imgstat imgtrust imgverify initrd isset iseq kernel login menu item choose module ntp param params ping poweroff prompt reboot route sanboot sanhook sanunhook set clear read shell show sleep sync time vcreate vdestroy inc dhcp6 nslookup pxebs certstat certstore certfree ipstat neighbour nstat profstat".split(
    " ",
  ),
);

export function checkIpxe(text: string): string[] {
  const problems: string[] = [];
  const lines = text.split("\n");
  if (lines[0]?.trim() !== "#!ipxe") problems.push("line 1: an iPXE script must start with #!ipxe");
  const labels = new Set(lines.filter((l) => /^:\S+/.test(l.trim())).map((l) => l.trim().slice(1)));
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    if (line.startsWith(":")) return;
    // A line may chain commands with && and ||; each must be an iPXE command.
    for (const part of line.split(/\s*(?:&&|\|\|)\s*/)) {
      if (!part) continue;
      const cmd = part.split(/\s+/)[0]!;
      if (!IPXE_COMMANDS.has(cmd)) problems.push(`line ${i + 1}: “${cmd}” is not an iPXE command`);
      if (cmd === "goto" && part.split(/\s+/)[1] && !labels.has(part.split(/\s+/)[1]!)) problems.push(`line ${i + 1}: no label :${part.split(/\s+/)[1]}`);
    }
  });
  return problems;
}

export function checkCloudConfig(text: string): string[] {
  const problems: string[] = [];
  if (!text.startsWith("#cloud-config")) problems.push("line 1: cloud-init user-data must start with #cloud-config");
  try {
    const doc = parseYaml(text, { strict: true, uniqueKeys: true });
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) problems.push("the document must be a YAML mapping");
  } catch (e) {
    problems.push(`YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  return problems;
}

/** d-i lines: "owner question type value", with "\" continuations and comments. */
export function checkPreseed(text: string): string[] {
  const problems: string[] = [];
  const TYPES = new Set(["string", "boolean", "select", "multiselect", "password", "note", "text", "error", "title"]);
  const logical: { n: number; text: string }[] = [];
  let buf = "";
  let start = 0;
  text.split("\n").forEach((line, i) => {
    if (!buf) start = i + 1;
    if (line.endsWith("\\")) {
      buf += line.slice(0, -1) + " ";
      return;
    }
    buf += line;
    logical.push({ n: start, text: buf });
    buf = "";
  });
  if (buf) problems.push(`line ${start}: a continued line (\\) never ends`);
  for (const { n, text: l } of logical) {
    const t = l.trim();
    if (!t || t.startsWith("#")) continue;
    const [owner, question, type] = t.split(/\s+/);
    if (!owner || !question || !type) problems.push(`line ${n}: expected “owner question type value”`);
    else if (!TYPES.has(type)) problems.push(`line ${n}: “${type}” is not a debconf type`);
  }
  return problems;
}

const KS_COMMANDS = new Set(
  "auth authconfig authselect autopart autostep bootloader btrfs clearpart cmdline device driverdisk eula fcoe firewall firstboot graphical group halt harddrive ignoredisk install iscsi iscsiname keyboard lang liveimg logging logvol mediacheck module network nfs ostreesetup part partition poweroff raid realm reboot repo reqpart rescue rootpw selinux services shutdown sshkey sshpw skipx snapshot text timezone timesource url user vnc volgroup xconfig zerombr zfcp zipl %include %ksappend".split(
    " ",
  ),
);

export function checkKickstart(text: string): string[] {
  const problems: string[] = [];
  let section: string | null = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    if (line.startsWith("%")) {
      const word = line.split(/\s+/)[0]!;
      if (word === "%end") {
        if (!section) problems.push(`line ${i + 1}: %end without a section`);
        section = null;
      } else if (["%packages", "%pre", "%post", "%pre-install", "%onerror", "%addon", "%anaconda"].includes(word)) {
        if (section) problems.push(`line ${i + 1}: ${word} inside ${section} (missing %end)`);
        section = word;
      } else if (!KS_COMMANDS.has(word)) problems.push(`line ${i + 1}: unknown section ${word}`);
      return;
    }
    if (section) return;
    const cmd = line.split(/\s+/)[0]!;
    if (!KS_COMMANDS.has(cmd)) problems.push(`line ${i + 1}: “${cmd}” is not a kickstart command`);
  });
  if (section) problems.push(`${section} is never closed with %end`);
  return problems;
}

export function checkRendered(format: CheckFormat, text: string): string[] {
  switch (format) {
    case "ipxe":
      return checkIpxe(text);
    case "cloud-init":
      return checkCloudConfig(text);
    case "preseed":
      return checkPreseed(text);
    case "kickstart":
      return checkKickstart(text);
    case "script":
      return text.startsWith("#!") ? [] : ["line 1: a script should start with #! (e.g. #!/bin/sh)"];
  }
}
