// The fake Replicate server's predictions: what each create stored, and the status, times and output that
// Replicate would report for it as its running time passes.

export type Outcome = "ok" | "safety" | "error" | "not_image" | "oversized" | "never";

export interface Behaviour {
  latencyMs?: number;
  outcome?: Outcome;
  /** The output URL reported instead of this server's own file URL. */
  outputUrl?: string;
  /** The PNG this prediction's output file serves instead of the server's one image (distinct outputs). */
  outputImage?: Buffer;
  /** The output file answers 302 with this Location instead of the file. */
  redirectTo?: string;
  /**
   * The create is stored (and would be billed) as usual, then held open: no answer goes back, as when the bot
   * is stopped or killed while its create is in flight. See `held` and `whenHeld`.
   */
  hold?: boolean;
}

export interface CreateRecord {
  id: string;
  model: string;
  input: Record<string, unknown>;
  at: number;
  /** The prediction's own running time, as this server decided it. */
  latencyMs: number;
  /** The create's `webhook` and `webhook_events_filter`, when it sent them. */
  webhook?: { url: unknown; events: unknown };
}

export interface Prediction {
  /** Creation order, for the list's cursor. */
  seq: number;
  id: string;
  model: string;
  input: Record<string, unknown>;
  createdAt: number;
  readyAt: number;
  outcome: Outcome;
  canceled: boolean;
  outputUrl?: string;
  outputImage?: Buffer;
  redirectTo?: string;
  /** Where the create asked for its completion to be posted (its `webhook`). */
  webhook?: string;
}

/** Where the server is reachable, known once it listens: the API's base URL and its output files' origin. */
export interface ServerLinks {
  readonly url: string;
  readonly filesOrigin: string;
}

/** The status Replicate reports for a prediction, with its times, error and output. */
export type PredictionView = ReturnType<PredictionStore["view"]>;

export class PredictionStore {
  private readonly byId = new Map<string, Prediction>();
  /** While true, every prediction reports itself still processing, whatever its latency: see `holdResults`. */
  private resultsHeld = false;

  constructor(private readonly links: ServerLinks) {}

  add(prediction: Prediction): void {
    this.byId.set(prediction.id, prediction);
  }

  get(id: string): Prediction | undefined {
    return this.byId.get(id);
  }

  /** Forgets a prediction, as Replicate does with old ones. */
  forget(id: string): void {
    this.byId.delete(id);
  }

  holdResults(held: boolean): void {
    this.resultsHeld = held;
  }

  /** The predictions created before creation number `before`, newest first. */
  olderThan(before: number): Prediction[] {
    return [...this.byId.values()].filter((p) => p.seq < before).sort((a, b) => b.seq - a.seq);
  }

  view(p: Prediction) {
    const api = this.links.url;
    const base = {
      id: p.id,
      model: p.model,
      version: "hidden",
      input: p.input,
      logs: "",
      error: null as string | null,
      output: null as string | null,
      created_at: new Date(p.createdAt).toISOString(),
      urls: { get: `${api}/predictions/${p.id}`, cancel: `${api}/predictions/${p.id}/cancel` },
    };
    if (p.canceled) return { ...base, status: "canceled" };
    if (this.resultsHeld || Date.now() < p.readyAt || p.outcome === "never") {
      return { ...base, status: Date.now() - p.createdAt < 50 ? "starting" : "processing" };
    }
    // Finished: the times Replicate reports (a held result ends when it is released).
    const completedAt = Math.max(p.readyAt, p.createdAt);
    Object.assign(base, {
      started_at: new Date(p.createdAt).toISOString(),
      completed_at: new Date(completedAt).toISOString(),
      metrics: { predict_time: (completedAt - p.createdAt) / 1000 },
    });
    switch (p.outcome) {
      case "safety":
        return {
          ...base,
          status: "failed",
          error:
            "The input or output was flagged as sensitive. Please try again with different inputs. (E005)",
        };
      case "error":
        return { ...base, status: "failed", error: "Internal model error" };
      default:
        return {
          ...base,
          status: "succeeded",
          output: p.outputUrl ?? `${this.links.filesOrigin}/files/${p.id}`,
        };
    }
  }
}
