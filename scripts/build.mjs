// `npm run build`: compiles src/ into dist/ with tsc (tsconfig.build.json rewrites the `.ts` import paths to
// `.js`) and copies the files the code reads next to itself (migrations' .sql, the mock video, the sandbox's
// web page), so dist/ runs on plain Node with no compiler loaded. Ends by stamping dist/.built.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const src = join(root, "src");
const dist = join(root, "dist");

export function build() {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error(`tsc failed with exit code ${result.status}`);
  for (const file of walk(src)) {
    if (file.endsWith(".ts")) continue;
    const target = join(dist, relative(src, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
  }
  writeFileSync(join(dist, ".built"), `${new Date().toISOString()}\n`);
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

if (process.argv[1] === import.meta.filename) {
  try {
    build();
  } catch (err) {
    console.error(`Build failed: ${err.message}`);
    process.exit(1);
  }
}
