// `npm start` (and migrate, deploy-commands, storage:copy): runs an entry point's compiled JavaScript from
// dist/, building it first when dist/ is missing or older than anything under src/ (or the build settings),
// so a fresh clone still needs only `npm ci && npm start`. No TypeScript compiler stays loaded in the bot.
//
//   node scripts/start.mjs [index|migrate|deploy-commands|storage-copy|fleet] [arguments for it]
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "./build.mjs";

// libuv's pool runs every file write, fsync and read, sharp's header reads and DNS lookups: its default of 4
// threads lets four slow fsyncs hold back everything else. Read once, at its first use, so set it before
// anything runs (an explicit setting wins).
process.env.UV_THREADPOOL_SIZE ??= "16";

const root = join(import.meta.dirname, "..");
const ENTRIES = new Set(["index", "migrate", "deploy-commands", "storage-copy", "fleet"]);

/** The newest modification time under `path` (a file or a folder), in ms. */
function newest(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = info.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

function stale() {
  const stamp = join(root, "dist", ".built");
  if (!existsSync(stamp)) return true;
  const sources = ["src", "tsconfig.json", "tsconfig.build.json", "package.json"].map((p) => join(root, p));
  return Math.max(...sources.map(newest)) > statSync(stamp).mtimeMs;
}

const entry = ENTRIES.has(process.argv[2] ?? "") ? process.argv[2] : "index";
// The entry's own arguments start where a direct `node dist/<entry>.js …` would have them.
if (process.argv[2] === entry) process.argv.splice(2, 1);

if (stale()) {
  console.error("Building dist/ (src/ changed since the last build)…");
  try {
    build();
  } catch (err) {
    console.error(`Cannot start: the build failed (${err.message}). Run npm run build to see why.`);
    process.exit(1);
  }
}
await import(pathToFileURL(join(root, "dist", `${entry}.js`)).href);
