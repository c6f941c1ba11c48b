// `npm run kiln -- …`: the admin CLI for automation (like `maas createadmin`).
//   user create --email E --password P [--name N] [--admin]
//   token create --email E [--name N] [--expires-days D]   (the token is the last line printed)
//   setup-link                                              (a fresh first-admin link, while no admin exists)
// Works against DATABASE_URL, or the embedded database (running or not).
import { parseArgs } from "node:util";
import { createUserAsAdmin } from "@/lib/accounts/create-user";
import { ensureSetupLink } from "@/lib/accounts/first-admin";
import { createApiTokenForEmail } from "@/lib/auth/api-tokens";
import { getAppDb } from "@/lib/db";
import { getEnv, setEnvForProcess } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { openRuntimeDatabase } from "@/lib/runtime/database";
import { runMigrations } from "@/lib/runtime/migrations";

const USAGE = `Usage:
  npm run kiln -- user create --email E --password P [--name N] [--admin]
  npm run kiln -- token create --email E [--name N] [--expires-days D]
  npm run kiln -- setup-link`;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      email: { type: "string" },
      password: { type: "string" },
      name: { type: "string" },
      admin: { type: "boolean", default: false },
      "expires-days": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals.join(" ");
  if (values.help || !["user create", "token create", "setup-link"].includes(command)) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }

  const runtime = await openRuntimeDatabase(getEnv(), { attachIfRunning: true });
  try {
    await runMigrations(runtime.url);
    setEnvForProcess({ DATABASE_URL: runtime.url });
    const db = getAppDb();
    if (command === "user create") {
      const user = await createUserAsAdmin(db, {
        email: values.email,
        password: values.password,
        name: values.name,
        admin: values.admin,
      });
      console.log(`created ${user.role} ${user.email} (${user.id})`);
    } else if (command === "token create") {
      const created = await createApiTokenForEmail(db, values.email ?? "", {
        name: values.name ?? "cli",
        expiresInDays: values["expires-days"],
      });
      console.log(`token "${created.name}" for ${values.email}${created.expiresAt ? `, expires ${created.expiresAt.toISOString()}` : ""}; shown once:`);
      console.log(created.token);
    } else {
      const link = await ensureSetupLink(db);
      console.log(link ?? "An administrator already exists; no setup link is needed.");
    }
    return 0;
  } finally {
    await runtime.stop();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((e) => {
    if (isAppError(e)) {
      // Name the option at fault: "error: --password: Use at least 10 characters."
      const fields = Object.entries(e.details?.fieldErrors ?? {}).map(([f, m]) => `--${f}: ${m.join(" ")}`);
      console.error(fields.length ? fields.map((f) => `error: ${f}`).join("\n") : `error: ${e.message}`);
    } else {
      console.error(`error: ${(e as Error).message}`);
    }
    process.exit(1);
  });
