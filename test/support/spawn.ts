// The one way tests and the benchmark run the bot (or another script of the project) as its own process:
// `node <script>` with only the environment given, its output kept for waiting and for errors. An entry point
// under src/ runs compiled, from the test tier's copy of dist/ (test/support/compiled-app.ts), as npm start
// runs it; anything else, and everything outside vitest, runs through tsx.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { inject } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

export interface RunOptions {
  /** Modules loaded before the script (`node --import`). */
  preload?: string[];
  /**
   * `true` runs the script's TypeScript through tsx; `false` runs it as plain JavaScript; unset, an entry
   * point under src/ runs from the compiled copy when the tier has one, and anything else through tsx.
   */
  tsx?: boolean;
}

/** The compiled copy of src/ this test tier provides, if any (none in the benchmark, which has no vitest). */
function compiledApp(): string | undefined {
  return process.env.VITEST ? inject("compiledApp") : undefined;
}

/** The arguments after `node` that run `script` (a path from the repository's root) as `options` say. */
export function nodeArguments(script: string, args: string[] = [], options: RunOptions = {}): string[] {
  const compiled = options.tsx === undefined ? compiledApp() : undefined;
  const entry = /^src\/(.+)\.ts$/.exec(script)?.[1];
  const target = compiled && entry ? join(compiled, `${entry}.js`) : script;
  const loader = options.tsx === false || target !== script ? [] : ["tsx"];
  const imports = [...loader, ...(options.preload ?? [])].flatMap((m) => ["--import", m]);
  return [...imports, target, ...args];
}

export interface ScriptProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  /** What it printed on stdout alone. */
  stdout(): string;
  /** Resolves once it has printed `text`; fails if it exits first or after `timeoutMs`. */
  printed(text: string, timeoutMs?: number): Promise<void>;
  /** Sends `signal` and resolves with the exit code (null when the signal ended it). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once it exits on its own. */
  exited(): Promise<number | null>;
}

export function spawnScript(
  script: string,
  env: Record<string, string>,
  options: RunOptions & { inheritOutput?: boolean; args?: string[] } = {},
): ScriptProcess {
  const child = spawn(process.execPath, nodeArguments(script, options.args, options), {
    cwd: ROOT,
    // No HTTP listeners unless a test asks for one: parallel bots would all want ports 8080 and 9464.
    env: { PATH: process.env.PATH ?? "", HTTP_PORT: "0", OPS_PORT: "0", ...env },
    stdio: ["ignore", options.inheritOutput ? "inherit" : "pipe", options.inheritOutput ? "inherit" : "pipe"],
  });
  let output = "";
  let stdout = "";
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
    stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    async printed(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${script} exited before printing "${text}":\n${output}`);
        }
        if (Date.now() > deadline) throw new Error(`${script} did not print "${text}":\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    exited: () => exited,
    async stop(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a script to its end; its exit code and everything it printed. */
export async function runScript(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
  options: RunOptions = {},
): Promise<{ status: number | null; output: string }> {
  const proc = spawnScript(script, env, { args, ...options });
  const status = await proc.exited();
  return { status, output: proc.output() };
}
