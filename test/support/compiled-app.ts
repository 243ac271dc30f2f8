// vitest globalSetup of the tiers that start the bot as its own process: builds dist/ when npm start would (it
// is missing or older than src/) and hands the tests a private copy of it, so a child runs compiled JavaScript
// as npm start does instead of compiling the sources through tsx at every start (half the CPU time of a
// start), and a test that rebuilds dist/ meanwhile cannot hand a starting child a half-written file.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Set in the tiers that spawn the bot: a folder holding this run's compiled src/ (`src/x.ts` as `x.js`). */
    compiledApp: string | undefined;
  }
}

const ROOT = join(import.meta.dirname, "..", "..");

/** The newest modification time under `path` (a file or a folder), in ms. */
function newest(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return readdirSync(path).reduce(
    (latest, entry) => Math.max(latest, newest(join(path, entry))),
    info.mtimeMs,
  );
}

/** What scripts/start.mjs calls stale: no stamp, or anything it is built from changed after it. */
function distIsStale(): boolean {
  const stamp = join(ROOT, "dist", ".built");
  if (!existsSync(stamp)) return true;
  const sources = ["src", "tsconfig.json", "tsconfig.build.json", "package.json"].map((p) => join(ROOT, p));
  return Math.max(...sources.map(newest)) > statSync(stamp).mtimeMs;
}

/**
 * Whether any test file this run selected in `project` starts a script as a process: a run of other files
 * (one test after an edit to src/, say) then waits for no build. Reads vitest's file filters from the command
 * line, which its public API does not expose.
 */
async function runStartsProcesses(project: TestProject): Promise<boolean> {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const { testFiles } = await project.globTestFiles(filters);
  return testFiles.some((file) =>
    /\b(spawnScript|runScript|nodeArguments)\(/.test(readFileSync(file, "utf8")),
  );
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (!(await runStartsProcesses(project))) return undefined;
  if (distIsStale()) {
    const built = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], {
      cwd: ROOT,
      stdio: "inherit",
    });
    if (built.status !== 0) throw new Error(`npm run build failed (exit code ${built.status})`);
  }
  const copy = mkdtempSync(join(tmpdir(), "crbot-compiled-"));
  cpSync(join(ROOT, "dist"), copy, { recursive: true });
  // Outside the repository the copy needs what the repository gives dist/: ES modules, and its packages.
  writeFileSync(join(copy, "package.json"), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");
  project.provide("compiledApp", copy);
  return () => rmSync(copy, { recursive: true, force: true });
}
