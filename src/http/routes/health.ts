// GET /healthz and GET /readyz, for a process manager or an orchestrator.
//
// /healthz says only that the process runs and answers (a liveness probe: restart it when this fails); it is on
// both listeners. /readyz says whether it can do its work now (a readiness probe: send it no traffic, or alert,
// when this fails): the database answers a trivial query, the object store can be read and written, the shared
// queue answers and its Redis does not evict keys (fleet mode), in a process with a Discord gateway connection that connection is up, and the
// process has started its role and is not stopping. Each check is bounded by CHECK_TIMEOUT_MS, so a store that hangs makes the probe fail
// in time rather than hang with it. /readyz is on the operations listener only (OPS_PORT), and even there it
// names what failed, never why: a driver's message names hosts, buckets and URLs, and goes to the log instead.
import type { HttpDeps, RouteGroup } from "../route-group.ts";

/** The longest a check may take before it counts as failed. */
export const CHECK_TIMEOUT_MS = 2000;

/** A failure whose text is the bot's own and names nothing internal: shown as it is. */
class ProbeFailure extends Error {}

/** What /readyz says of a failure whose cause is not the bot's own text; the cause is in the log. */
export const FAILED_SEE_LOG = "failed (the cause is in the process log)";

export type CheckResult = { ok: true; ms: number } | { ok: false; ms: number; error: string };

export interface Readiness {
  status: "ready" | "not ready";
  checks: Record<string, CheckResult>;
  /** The checks that failed, by name; absent when ready. */
  failed?: string[];
}

export const livenessRoutes: RouteGroup = (app) => {
  app.get("/healthz", async (_request, reply) => {
    reply.header("cache-control", "no-store");
    return { status: "ok" };
  });
};

export const readinessRoutes: RouteGroup = (app, deps) => {
  // Requests that arrive while a round of checks runs share it: a flood of probes costs one query and one
  // storage request at a time, and a check that hangs is not started again until its round gives up.
  let round: Promise<Readiness> | undefined;
  // A check that keeps failing the same way is logged once, not on every probe.
  const logged = new Map<string, string>();
  const readiness = () => {
    round ??= checkReadiness(deps, (name, cause) => {
      if (logged.get(name) === cause) return;
      if (cause === undefined) logged.delete(name);
      else logged.set(name, cause);
      if (cause !== undefined) deps.ctx.logger.warn({ check: name, cause }, "readiness check failed");
    }).finally(() => {
      round = undefined;
    });
    return round;
  };

  app.get("/readyz", async (_request, reply) => {
    const answer = await readiness();
    reply.header("cache-control", "no-store");
    reply.code(answer.status === "ready" ? 200 : 503);
    return answer;
  });
};

/** Each check's outcome by name: `cause` is the full reason of a failure (for the log), undefined on success. */
export type CheckObserver = (name: string, cause: string | undefined) => void;

/** Runs every check at once; ready only when each passes. */
export async function checkReadiness(
  deps: HttpDeps,
  observe: CheckObserver = () => undefined,
): Promise<Readiness> {
  const { ctx, gatewayReady, phase } = deps;
  const checks: Record<string, () => Promise<void>> = {
    database: () => ctx.data.ping(),
    storage: () => ctx.files.objects.check(),
  };
  const jobs = ctx.jobs;
  if (jobs) {
    checks.queue = () => jobs.check();
    // A Redis allowed to evict keys under memory pressure drops queued jobs (the reconciler puts them back
    // from the rows, but late): fleet mode needs `maxmemory-policy noeviction`.
    checks.queueEvictionPolicy = async () => {
      const policy = await jobs.evictionPolicy();
      if (policy !== undefined && policy !== "noeviction")
        throw new ProbeFailure(
          `Redis's maxmemory-policy is ${policy}: it may evict queued jobs; set maxmemory-policy noeviction`,
        );
    };
  }
  if (gatewayReady) {
    checks.gateway = async () => {
      if (!gatewayReady()) throw new ProbeFailure("the Discord gateway connection is not ready");
    };
  }
  if (phase) {
    checks.process = async () => {
      const now = phase();
      if (now !== "running") throw new ProbeFailure(now);
    };
  }
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const { result, cause } = await runCheck(check);
      observe(name, cause);
      return [name, result] as const;
    }),
  );
  const byName: Record<string, CheckResult> = Object.fromEntries(results);
  const failed = results.filter(([, result]) => !result.ok).map(([name]) => name);
  return failed.length === 0
    ? { status: "ready", checks: byName }
    : { status: "not ready", checks: byName, failed };
}

async function runCheck(
  check: () => Promise<void>,
): Promise<{ result: CheckResult; cause: string | undefined }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const elapsed = () => Math.round(performance.now() - started);
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ProbeFailure(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { result: { ok: true, ms: elapsed() }, cause: undefined };
  } catch (err) {
    const cause = describe(err);
    const error = err instanceof ProbeFailure ? err.message : FAILED_SEE_LOG;
    return { result: { ok: false, ms: elapsed(), error }, cause };
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
