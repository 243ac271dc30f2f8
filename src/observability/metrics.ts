// What the bot is doing, as Prometheus metrics (GET /metrics). One Metrics per application context, each with
// its own prom-client Registry: never prom-client's global default registry, so two contexts in one process
// (tests, a restart in place) never collide on a metric name or share counts.
//
// The places that know a fact report it through the small methods below (the router, the prediction job
// runner, the limiter, the REST client's events, admission refusals); label values are always from a small
// known set, never user input, so the number of series stays bounded.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Every metric name starts with this, so the bot's series are easy to find next to the process ones. */
export const METRIC_PREFIX = "crbot_";

/**
 * Which credential a Discord REST route uses: an interaction's token (its callback and webhook, valid for
 * 15 minutes, with their own rate limits) or the bot's token (everything else).
 */
export type RouteKind = "interaction" | "bot";

/** How a handled interaction ended, as the router saw it. */
export type InteractionOutcome = "ok" | "refused" | "storage_unavailable" | "error";

export interface InteractionLabels {
  /** "command", "button", "modal", "autocomplete" or "other". */
  type: string;
  /** The command's name, or the button's handler; "unknown" for anything the bot does not register. */
  command: string;
}

/** Seconds buckets for acknowledgements: Discord allows 3 s, so the resolution is below that. */
const ACK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5];
/** Seconds buckets for a prediction: an image takes seconds, a video minutes. */
const PREDICTION_BUCKETS = [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200];
/** Seconds buckets for a wait for a place under MAX_CONCURRENT_PREDICTIONS. */
const QUEUE_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300];

// Each metric's name, help and labels; every Metrics registers its own instance of each in its own registry.
const INTERACTIONS = {
  name: `${METRIC_PREFIX}interactions_total`,
  help: "Interactions handled, by type, command (or button handler) and outcome",
  labelNames: ["type", "command", "outcome"],
} as const;
const ACK_SECONDS = {
  name: `${METRIC_PREFIX}interaction_ack_seconds`,
  help: "Time from an interaction's creation (its id's timestamp) to Discord accepting its acknowledgement, by kind (defer, reply, autocomplete)",
  labelNames: ["kind"],
  buckets: ACK_BUCKETS,
} as const;
const PREDICTIONS = {
  name: `${METRIC_PREFIX}predictions_total`,
  help: "Predictions that ended, by kind (image, video), model and final status (succeeded or the failure code)",
  labelNames: ["kind", "model", "status"],
} as const;
const PREDICTION_SECONDS = {
  name: `${METRIC_PREFIX}prediction_duration_seconds`,
  help: "Time from a prediction job getting its place under the limiter to its end, by kind and model",
  labelNames: ["kind", "model"],
  buckets: PREDICTION_BUCKETS,
} as const;
const QUEUE_DEPTH = {
  name: `${METRIC_PREFIX}prediction_queue_depth`,
  help: "Prediction jobs waiting for a place under MAX_CONCURRENT_PREDICTIONS",
} as const;
const QUEUE_WAIT_SECONDS = {
  name: `${METRIC_PREFIX}prediction_queue_wait_seconds`,
  help: "Time a prediction job waited for a place under MAX_CONCURRENT_PREDICTIONS (0 when one was free)",
  buckets: QUEUE_BUCKETS,
} as const;
const REST_REQUESTS = {
  name: `${METRIC_PREFIX}discord_rest_requests_total`,
  help: "Discord REST responses, by route kind (interaction token or bot token) and HTTP status",
  labelNames: ["route_kind", "status"],
} as const;
const REST_429S = {
  name: `${METRIC_PREFIX}discord_rest_429_total`,
  help: "Discord REST 429 (rate limited) responses, by route kind and X-RateLimit-Scope",
  labelNames: ["route_kind", "scope"],
} as const;
const REST_WAITS = {
  name: `${METRIC_PREFIX}discord_rest_rate_limit_waits_total`,
  help: "Times the REST client held a request back for a rate limit, by route kind and whether it was global",
  labelNames: ["route_kind", "global"],
} as const;
const STORAGE_ERRORS = {
  name: `${METRIC_PREFIX}storage_errors_total`,
  help: "Operations that failed because a store was unavailable, by store (database, objects)",
  labelNames: ["store"],
} as const;
const REFUSALS = {
  name: `${METRIC_PREFIX}quota_refusals_total`,
  help: "Requests refused at admission, by kind, reason (quota, busy, blocked, gone) and allowance scope (user, guild, everywhere; none when not a quota)",
  labelNames: ["kind", "reason", "scope"],
} as const;

export class Metrics {
  /** This context's registry: GET /metrics serves it. */
  readonly registry = new Registry();
  private readonly interactions: Counter<"type" | "command" | "outcome">;
  private readonly ackSeconds: Histogram<"kind">;
  private readonly predictions: Counter<"kind" | "model" | "status">;
  private readonly predictionSeconds: Histogram<"kind" | "model">;
  private readonly queueDepthGauge: Gauge;
  private readonly queueWaitSeconds: Histogram;
  private readonly restRequests: Counter<"route_kind" | "status">;
  private readonly rest429s: Counter<"route_kind" | "scope">;
  private readonly restWaits: Counter<"route_kind" | "global">;
  private readonly storageErrors: Counter<"store">;
  private readonly refusals: Counter<"kind" | "reason" | "scope">;

  /** `processMetrics`: prom-client's CPU, memory, event loop and GC metrics too (default true). */
  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // Registered first, as their order is the order GET /metrics lists them in.
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.interactions = new Counter({ ...INTERACTIONS, registers });
    this.ackSeconds = new Histogram({ ...ACK_SECONDS, registers });
    this.predictions = new Counter({ ...PREDICTIONS, registers });
    this.predictionSeconds = new Histogram({ ...PREDICTION_SECONDS, registers });
    this.queueDepthGauge = new Gauge({ ...QUEUE_DEPTH, registers });
    this.queueWaitSeconds = new Histogram({ ...QUEUE_WAIT_SECONDS, registers });
    this.restRequests = new Counter({ ...REST_REQUESTS, registers });
    this.rest429s = new Counter({ ...REST_429S, registers });
    this.restWaits = new Counter({ ...REST_WAITS, registers });
    this.storageErrors = new Counter({ ...STORAGE_ERRORS, registers });
    this.refusals = new Counter({ ...REFUSALS, registers });
  }

  /** The Content-Type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    // prom-client writes a NaN sample (the event-loop lag's mean before its first sample) as "Nan"; the
    // exposition format spells it "NaN", and strict parsers refuse anything else.
    return (await this.registry.metrics()).replace(/ Nan$/gm, " NaN");
  }

  interaction(labels: InteractionLabels, outcome: InteractionOutcome): void {
    this.interactions.inc({ ...labels, outcome });
  }

  /** An acknowledgement Discord accepted, `seconds` after the interaction was created. */
  acknowledged(kind: string, seconds: number): void {
    this.ackSeconds.observe({ kind }, Math.max(0, seconds));
  }

  predictionEnded(kind: "image" | "video", model: string, status: string, seconds: number): void {
    this.predictions.inc({ kind, model, status });
    this.predictionSeconds.observe({ kind, model }, Math.max(0, seconds));
  }

  /** How many jobs wait for a place, each time that changes. */
  queueDepth(waiting: number): void {
    this.queueDepthGauge.set(waiting);
  }

  queueWaited(seconds: number): void {
    this.queueWaitSeconds.observe(Math.max(0, seconds));
  }

  discordResponse(routeKind: RouteKind, status: number, rateLimitScope: string | null): void {
    this.restRequests.inc({ route_kind: routeKind, status: String(status) });
    if (status === 429) this.rest429s.inc({ route_kind: routeKind, scope: rateLimitScope ?? "unknown" });
  }

  discordRateLimitWait(routeKind: RouteKind, global: boolean): void {
    this.restWaits.inc({ route_kind: routeKind, global: String(global) });
  }

  /** A StorageUnavailableError reached a handler or a job; `variable` is the setting it names. */
  storageError(variable: string): void {
    const store = variable === "DATABASE_URL" ? "database" : variable === "REDIS_URL" ? "queue" : "objects";
    this.storageErrors.inc({ store });
  }

  /** `refusal` is an admission's refusal: its reason, and for a quota the scope of the allowance it hit. */
  refused(kind: "image" | "video", refusal: { reason: string; detail?: { scope: string } }): void {
    this.refusals.inc({
      kind,
      reason: refusal.reason,
      scope: refusal.detail?.scope ?? "none",
    });
  }
}

/**
 * The route kind of a Discord REST path or bucket route: `/interactions/<id>/<token>/…` and
 * `/webhooks/<application>/<token>…` are authorised by the interaction's token; the rest by the bot's.
 */
export function routeKindOf(path: string): RouteKind {
  return /^\/(interactions|webhooks)\/[^/]+\/[^/]+/.test(path) ? "interaction" : "bot";
}
