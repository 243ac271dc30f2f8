// GET /healthz and GET /readyz, for a process manager or an orchestrator.
//
// /healthz says only that the process runs and answers (a liveness probe: restart it when this fails).
// /readyz says whether it can do its work now (a readiness probe: send it no traffic, or alert, when this
// fails): the database answers a trivial query, the object store can be read and written, and, in a process
// with a Discord gateway connection, that connection is up. Each check is bounded by CHECK_TIMEOUT_MS, so a
// store that hangs makes the probe fail in time rather than hang with it.
//
// Redis: the bot has none yet. When fleet mode adds it, it becomes one more check here (only when it is set).
import { configSecrets } from "../../config/secrets.ts";
import type { HttpDeps, RouteGroup } from "../route-group.ts";

/** The longest a check may take before it counts as failed. */
export const CHECK_TIMEOUT_MS = 2000;

export type CheckResult = { ok: true; ms: number } | { ok: false; ms: number; error: string };

export interface Readiness {
  status: "ready" | "not ready";
  checks: Record<string, CheckResult>;
  /** The checks that failed, by name; absent when ready. */
  failed?: string[];
}

export const healthRoutes: RouteGroup = (app, deps) => {
  // Requests that arrive while a round of checks runs share it: a flood of probes costs one query and one
  // storage request at a time, and a check that hangs is not started again until its round gives up.
  let round: Promise<Readiness> | undefined;
  const readiness = () => {
    round ??= checkReadiness(deps).finally(() => {
      round = undefined;
    });
    return round;
  };

  app.get("/healthz", async (_request, reply) => {
    reply.header("cache-control", "no-store");
    return { status: "ok" };
  });

  app.get("/readyz", async (_request, reply) => {
    const answer = await readiness();
    reply.header("cache-control", "no-store");
    reply.code(answer.status === "ready" ? 200 : 503);
    return answer;
  });
};

/** Runs every check at once; ready only when each passes. */
export async function checkReadiness(deps: HttpDeps): Promise<Readiness> {
  const { ctx, gatewayReady } = deps;
  const checks: Record<string, () => Promise<void>> = {
    database: () => ctx.data.ping(),
    storage: () => ctx.files.objects.check(),
  };
  const jobs = ctx.jobs;
  if (jobs) checks.queue = () => jobs.check();
  if (gatewayReady) {
    checks.gateway = async () => {
      if (!gatewayReady()) throw new Error("the Discord gateway connection is not ready");
    };
  }
  const secrets = configSecrets(ctx.config);
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, secrets)] as const),
  );
  const byName: Record<string, CheckResult> = Object.fromEntries(results);
  const failed = results.filter(([, result]) => !result.ok).map(([name]) => name);
  return failed.length === 0
    ? { status: "ready", checks: byName }
    : { status: "not ready", checks: byName, failed };
}

async function runCheck(check: () => Promise<void>, secrets: string[]): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const elapsed = () => Math.round(performance.now() - started);
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, ms: elapsed() };
  } catch (err) {
    return { ok: false, ms: elapsed(), error: redact(describe(err), secrets) };
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    // A connection refused on every address (node's happy eyeballs) is one AggregateError with no message.
    return (err.errors as unknown[]).map(describe).join("; ");
  }
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

/** The answer is public to whoever reaches the port: no credential may appear in it, whatever a driver says. */
function redact(message: string, secrets: string[]): string {
  let out = message;
  for (const secret of secrets) out = out.split(secret).join("[redacted]");
  return out.slice(0, 300);
}
