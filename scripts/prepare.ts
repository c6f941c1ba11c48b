// The launcher's one-shot set-up, in a process of its own that exits when done: migrations, the
// built-in templates, the deploy ramdisk and the first administrator's link. Run apart so the
// launcher, which stays up to supervise, never holds the ORM and the rest in memory (bench/
// README.md, "Memory"). Speaks to the launcher over IPC: lines to print, then the outcome.
import { ensureSetupLink } from "@/lib/accounts/first-admin";
import { ensureMedia, MEDIA_SETS } from "@/lib/boot/media";
import { describeEfiLocalBoot, ensureEfiLocalBoot } from "@/lib/boot/efi-local-boot";
import { ensureRamdisk } from "@/lib/boot/ramdisk";
import { getAppDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { runMigrations } from "@/lib/runtime/migrations";
import { syncBuiltinTemplates } from "@/lib/templates/templates";

export type PrepareMessage = { type: "say"; line: string } | { type: "failed"; message: string } | { type: "done"; setupLink: string | null };

function tell(m: PrepareMessage): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(m, () => resolve()) : (process.stdout.write(`${JSON.stringify(m)}\n`), resolve())));
}

async function prepare(): Promise<void> {
  const env = getEnv();
  try {
    await runMigrations(env.DATABASE_URL!);
  } catch (e) {
    return tell({ type: "failed", message: `Applying database migrations failed: ${(e as Error).message}` });
  }
  try {
    await syncBuiltinTemplates(getAppDb());
  } catch (e) {
    return tell({ type: "failed", message: `Loading the built-in templates failed: ${(e as Error).message}` });
  }
  // Deploy, capture and wipe runs boot the ramdisk; nothing else needs it, so Kiln starts without one.
  try {
    await ensureRamdisk({ dir: env.ramdiskDir, log: (line) => void tell({ type: "say", line: `ramdisk: ${line}` }) });
  } catch (e) {
    await tell({ type: "say", line: `warning: ${(e as Error).message}. Deploys, captures and wipes will not work until \`npm run ramdisk\` succeeds (docs/ramdisk.md).` });
  }
  // Install media (the Debian installer) is copied from its Debian package when installed; a
  // template's mirror variable fetches it from a mirror instead, so Kiln starts without it.
  for (const set of Object.keys(MEDIA_SETS)) {
    try {
      await ensureMedia({ dir: env.mediaDir, set, log: (line) => void tell({ type: "say", line: `media: ${line}` }) });
    } catch (e) {
      await tell({ type: "say", line: `warning: install media ${set}: ${(e as Error).message}` });
    }
  }
  // UEFI machines told to boot their disk chain this GRUB program; without it they still boot, ~14 s later.
  const efi = await ensureEfiLocalBoot();
  await tell({ type: "say", line: efi.ok ? describeEfiLocalBoot(efi) : `warning: ${efi.reason}` });
  await tell({ type: "done", setupLink: await ensureSetupLink(getAppDb()) });
}

await prepare().catch((e) => tell({ type: "failed", message: (e as Error).message }));
process.exit(0);
