// Post-install configuration from a git repository (docs/post-install.md): what templates see
// of it (`deployment.post_install`) and the runner the installed system executes on its first
// boot. Pure: built from plain inputs, every value the holder chose put into the shell only
// through shellQuote, so a URL, ref or path cannot become a command whatever it holds (the API
// validates them too, but this file does not rely on it).

import { shellQuote } from "./shell-quote";

export const POST_INSTALL_KINDS = ["script", "ansible-playbook"] as const;
export type PostInstallKind = (typeof POST_INSTALL_KINDS)[number];
export type PostInstall = { gitUrl: string; ref: string; path: string; kind: PostInstallKind };

/** Where the installed system keeps the runner and its state; fixed so a person on the machine finds them. */
export const POST_INSTALL_PATHS = {
  runner: "/usr/local/sbin/kiln-post-install",
  env: "/etc/kiln/post-install.env",
  unit: "/etc/systemd/system/kiln-post-install.service",
  state: "/var/lib/kiln",
} as const;

/**
 * The runner's name, in its header and in the runner's and the unit's paths. (A run with post-install
 * refuses a template whose output lacks POST_INSTALL_PATHS.runner: lib/deployments/post-install.ts.)
 */
export const POST_INSTALL_MARKER = "kiln-post-install";

// The runner's fixed part. POSIX sh (dash, busybox ash, bash), no bashisms: it runs on whatever
// the image or installer put there. Reports go to $KILN_RUN_URL/{log,done,failed}, the run's
// token URL, which lives in a separate root-only file (KILN_ENV_FILE), so the runner itself
// holds no secret and can be handed over base64-encoded (a template that encodes the token
// would encode Kiln's per-run stand-in, not the token).
const RUNNER_BODY = String.raw`: "${"$"}{KILN_STATE_DIR:=/var/lib/kiln}"
: "${"$"}{KILN_ENV_FILE:=/etc/kiln/post-install.env}"
: "${"$"}{KILN_LOG_INTERVAL:=2}"
KILN_RUN_URL=
if [ -r "$KILN_ENV_FILE" ]; then . "$KILN_ENV_FILE"; fi
if [ -z "$KILN_RUN_URL" ]; then echo "kiln-post-install: no KILN_RUN_URL in $KILN_ENV_FILE; nothing to report to" >&2; exit 1; fi
mark=$KILN_STATE_DIR/post-install.done
# Once per installed system: a reboot (or a second caller) does not run the repository again.
if [ -e "$mark" ]; then echo "kiln-post-install: already ran ($(cat "$mark")); remove $mark to run it again"; exit 0; fi
work=$KILN_STATE_DIR/post-install
out=$work/output.log
mkdir -p "$work" || exit 1
rm -rf "$work/repo" "$work/status" "$work/status.tmp"
: > "$out" || exit 1
sent=0
# A systemd unit or cloud-init may start it without HOME; git and ansible want one.
export HOME="${"$"}{HOME:-/root}" GIT_TERMINAL_PROMPT=0 GIT_ALLOW_PROTOCOL=http:https:git

post() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --retry 5 --retry-delay 2 --retry-connrefused -m 60 -X POST -H 'Content-Type: text/plain' --data-binary "@$2" "$KILN_RUN_URL/$1" >/dev/null
  else
    wget -q -O /dev/null --header='Content-Type: text/plain' --post-file="$2" "$KILN_RUN_URL/$1"
  fi
}

# Sends the complete lines Kiln has not had yet, 200 a request of at most 3,000 bytes each: under
# the log's 1,000 lines of 4,000 characters and the 1 MiB body limit, whatever the script prints.
flush() {
  total=$(($(wc -l < "$out")))
  while [ "$sent" -lt "$total" ]; do
    upto=$((sent + 200))
    if [ "$upto" -gt "$total" ]; then upto=$total; fi
    sed -n "$((sent + 1)),${"$"}{upto}p" "$out" | tr -d '\000' | cut -c 1-3000 > "$work/batch"
    if grep -q . "$work/batch"; then
      post log "$work/batch" || echo "kiln-post-install: lines $((sent + 1))-$upto did not reach Kiln" >&2
    fi
    sent=$upto
  done
}

say() { printf 'post-install: %s\n' "$*" | tee -a "$out"; }

finish() {
  printf '%s %s\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$mark"
}

fail() {
  say "FAILED: $1"
  flush
  printf 'post-install: %s\n' "$1" > "$work/reason"
  finish failed
  post failed "$work/reason" || echo "kiln-post-install: the failure did not reach Kiln" >&2
  exit 1
}

# Runs a command with its output in the log, sending lines while it runs; returns its status.
run() {
  rm -f "$work/status" "$work/status.tmp"
  ( "$@" >> "$out" 2>&1 < /dev/null; echo $? > "$work/status.tmp"; mv "$work/status.tmp" "$work/status" ) &
  while [ ! -e "$work/status" ]; do sleep "$KILN_LOG_INTERVAL"; flush; done
  wait
  flush
  return "$(cat "$work/status")"
}

install_pkg() {
  if command -v apt-get >/dev/null 2>&1; then
    run env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get -q update && apt-get -q install -y "$@"' sh "$@"
  elif command -v dnf >/dev/null 2>&1; then
    run dnf -y -q install "$@"
  else
    say "neither apt-get nor dnf is here to install $*"
    return 127
  fi
}

say "fetching $KILN_GIT_URL at $KILN_GIT_REF, then $KILN_KIND $KILN_PATH"
if ! command -v git >/dev/null 2>&1; then
  say "installing git"
  install_pkg git || fail "git is not installed and could not be installed (exit status $?): put git in the image, or let the machine reach a package mirror"
fi
case $KILN_GIT_REF in
  *[!0-9a-f]*) is_sha=no ;;
  *) if [ ${"$"}{#KILN_GIT_REF} -eq 40 ]; then is_sha=yes; else is_sha=no; fi ;;
esac
if [ "$is_sha" = yes ]; then
  { git init -q "$work/repo" && git -C "$work/repo" remote add origin "$KILN_GIT_URL"; } >> "$out" 2>&1 || fail "could not prepare $work/repo for the clone"
  # A commit by its id: a shallow fetch where the server allows it, else the whole history.
  run git -C "$work/repo" fetch -q --depth 1 origin "$KILN_GIT_REF" || run git -C "$work/repo" fetch -q origin || fail "git fetch of $KILN_GIT_URL failed (exit status $?): check the URL and that this machine can reach the server; git's output is above"
  git -C "$work/repo" -c advice.detachedHead=false checkout -q "$KILN_GIT_REF" >> "$out" 2>&1 || fail "commit $KILN_GIT_REF is not in $KILN_GIT_URL (git checkout exit status $?)"
else
  # Shallow first; a server on dumb HTTP cannot serve a shallow clone, so then the whole history.
  if ! run git clone -q --depth 1 --branch "$KILN_GIT_REF" -- "$KILN_GIT_URL" "$work/repo"; then
    rm -rf "$work/repo"
    say "a shallow clone did not work; trying a full one"
    run git clone -q --branch "$KILN_GIT_REF" -- "$KILN_GIT_URL" "$work/repo" || fail "git clone of $KILN_GIT_URL at $KILN_GIT_REF failed (exit status $?): check the URL, that the branch or tag exists and that this machine can reach the server; git's output is above"
  fi
fi
cd "$work/repo" || fail "the clone is not at $work/repo"
say "at commit $(git rev-parse HEAD)"
if [ ! -f "$KILN_PATH" ]; then fail "$KILN_PATH is not a file in $KILN_GIT_URL at $KILN_GIT_REF"; fi
case $KILN_KIND in
  ansible-playbook)
    if ! command -v ansible-playbook >/dev/null 2>&1; then
      say "installing ansible-core"
      install_pkg ansible-core || fail "ansible-playbook is not installed and ansible-core could not be installed (exit status $?): put it in the image, or let the machine reach a package mirror"
    fi
    say "running ansible-playbook -i localhost, -c local $KILN_PATH"
    run ansible-playbook -i localhost, -c local "$KILN_PATH"
    st=$?
    what="ansible-playbook $KILN_PATH" ;;
  *)
    say "running sh $KILN_PATH"
    run sh "$KILN_PATH"
    st=$?
    what="sh $KILN_PATH" ;;
esac
if [ "$st" -ne 0 ]; then fail "$what (from $KILN_GIT_URL at $KILN_GIT_REF) exited with status $st; its output is in this run's log"; fi
say "$what finished (exit status 0)"
flush
finish done
{ ip -o link; ip -o addr; } > "$work/addresses" 2>/dev/null
post done "$work/addresses" || echo "kiln-post-install: the done report did not reach Kiln" >&2
exit 0
`;

/** The runner: the holder's choices as quoted assignments, then the fixed body above. */
export function postInstallRunner(p: PostInstall, deploymentId: string): string {
  return [
    "#!/bin/sh",
    `# ${POST_INSTALL_MARKER}: Kiln's post-install runner for deployment ${deploymentId.replace(/[^A-Za-z0-9-]/g, "")} (docs/post-install.md).`,
    "# Fetches a git repository and runs a script or playbook from it once, sending its output to the run's log.",
    `KILN_GIT_URL=${shellQuote(p.gitUrl)}`,
    `KILN_GIT_REF=${shellQuote(p.ref)}`,
    `KILN_PATH=${shellQuote(p.path)}`,
    `KILN_KIND=${shellQuote(p.kind)}`,
    RUNNER_BODY,
  ].join("\n");
}

const UNIT = `[Unit]
Description=Kiln post-install configuration from git (first boot)
Wants=network-online.target
After=network-online.target
ConditionPathExists=!${POST_INSTALL_PATHS.state}/post-install.done

[Service]
Type=oneshot
ExecStart=/bin/sh ${POST_INSTALL_PATHS.runner}
RemainAfterExit=yes
TimeoutStartSec=0
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
`;

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/**
 * `deployment.post_install` as templates see it, or null. `runUrl` is the run's report root
 * (/boot/<mac>/<token>), token included: it appears only in `env` and the commands, as plain
 * text, so the boot route can put the real token in place of the stand-in.
 *
 * - `runner`, `env`: file contents, for cloud-init's write_files.
 * - `write_command`: one sh line writing runner and env to / (cloud-init runcmd).
 * - `firstboot_command`: the same plus a systemd unit, enabled, that runs it at the next boot
 *   (preseed late_command through in-target, kickstart %post): the installer is not the
 *   booted system.
 * - `run_command`: runs the runner now.
 */
export function postInstallContext(p: PostInstall | null | undefined, runUrl: string, deploymentId: string) {
  if (!p) return null;
  const runner = postInstallRunner(p, deploymentId);
  const envLine = `KILN_RUN_URL=${shellQuote(runUrl)}`;
  const env = `${envLine}\n`;
  const P = POST_INSTALL_PATHS;
  const write = [
    `mkdir -p ${shellQuote(dirOf(P.runner))} ${shellQuote(dirOf(P.env))}`,
    `echo ${b64(runner)} | base64 -d > ${P.runner}`,
    `chmod 0755 ${P.runner}`,
    `(umask 077 && printf '%s\\n' ${shellQuote(envLine)} > ${P.env})`,
  ].join(" && ");
  const wants = `${dirOf(P.unit)}/multi-user.target.wants`;
  const firstboot = [write, `mkdir -p ${wants}`, `echo ${b64(UNIT)} | base64 -d > ${P.unit}`, `ln -sf ../kiln-post-install.service ${wants}/kiln-post-install.service`].join(" && ");
  return {
    git_url: p.gitUrl,
    ref: p.ref,
    path: p.path,
    kind: p.kind,
    runner,
    env,
    unit: UNIT,
    paths: { ...P },
    write_command: write,
    firstboot_command: firstboot,
    run_command: `sh ${P.runner}`,
  };
}

function dirOf(p: string): string {
  return p.slice(0, p.lastIndexOf("/"));
}
