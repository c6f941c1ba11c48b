// `npm run media [-- <set>…]`: copies the install media Kiln serves under /boot/media/ from their
// Debian packages into KILN_MEDIA_DIR (docs/install-media.md). `npm start` does the same at
// start; this is for a running Kiln after the package was installed or upgraded.
import { ensureMedia, MEDIA_SETS } from "@/lib/boot/media";
import { getEnv } from "@/lib/env";

const sets = process.argv.slice(2);
const unknown = sets.filter((s) => !Object.hasOwn(MEDIA_SETS, s));
if (unknown.length > 0) {
  console.error(`unknown install media: ${unknown.join(", ")}; known: ${Object.keys(MEDIA_SETS).join(", ")}`);
  process.exit(2);
}
const env = getEnv();
let missing = 0;
for (const set of sets.length > 0 ? sets : Object.keys(MEDIA_SETS)) {
  const manifest = await ensureMedia({ dir: env.mediaDir, set, log: (line) => console.log(line) });
  if (manifest) console.log(`${set}: ${manifest.package} ${manifest.version} in ${env.mediaDir}/${set} (${Object.keys(manifest.files).join(", ")})`);
  else missing++;
}
process.exit(missing > 0 ? 1 : 0);
