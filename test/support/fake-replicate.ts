// A local stand-in for Replicate's HTTP API: create, get, list and cancel predictions and serve their output
// files, with the faults a real deployment meets (latency, 429 + Retry-After, 5xx, hangs, lost create answers,
// creates held open while the bot dies, refused connections, safety failures, bad files, outputs elsewhere
// and redirects).
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";

/**
 * Input fields each model declares in its published schema on Replicate, kept here independently of the
 * bot's own registry so that a field the bot should not send is caught.
 */
export const PUBLISHED_INPUTS: Record<string, readonly string[]> = {
  "google/imagen-4": ["prompt", "aspect_ratio", "output_format", "safety_filter_level"],
  "google/imagen-4-fast": ["prompt", "aspect_ratio", "output_format", "safety_filter_level"],
  "google/imagen-4-ultra": ["prompt", "aspect_ratio", "output_format", "safety_filter_level"],
  "google/nano-banana": ["prompt", "image_input", "aspect_ratio", "output_format"],
  "google/nano-banana-2": [
    "prompt",
    "image_input",
    "aspect_ratio",
    "resolution",
    "image_search",
    "google_search",
    "output_format",
  ],
  "google/nano-banana-pro": [
    "prompt",
    "image_input",
    "aspect_ratio",
    "resolution",
    "output_format",
    "safety_filter_level",
    "allow_fallback_model",
  ],
  "minimax/video-01": ["prompt", "prompt_optimizer", "first_frame_image", "subject_reference"],
  "kwaivgi/kling-v2.1": ["prompt", "negative_prompt", "start_image", "mode", "duration"],
  "google/veo-3-fast": [
    "prompt",
    "image",
    "aspect_ratio",
    "resolution",
    "generate_audio",
    "seed",
    "negative_prompt",
  ],
};

const VIDEO_MODELS = new Set(["minimax/video-01", "kwaivgi/kling-v2.1", "google/veo-3-fast"]);
const SAMPLE_VIDEO = readFileSync(new URL("../../src/providers/mock/assets/mock-video.mp4", import.meta.url));

export type Outcome = "ok" | "safety" | "error" | "not_image" | "oversized" | "never";

export interface Behaviour {
  latencyMs?: number;
  outcome?: Outcome;
  /** The output URL reported instead of this server's own file URL. */
  outputUrl?: string;
  /** The output file answers 302 with this Location instead of the file. */
  redirectTo?: string;
  /**
   * The create is stored (and would be billed) as usual, then held open: no answer goes back, as when the bot
   * is stopped or killed while its create is in flight. See `held` and `whenHeld`.
   */
  hold?: boolean;
}

export interface Fault {
  method: "GET" | "POST";
  /** Matched against the start of the path, e.g. "/v1/models/" or "/v1/predictions/". */
  pathPrefix: string;
  status?: number;
  retryAfter?: string;
  /** Never answer; the client must time out. */
  hang?: boolean;
  /**
   * For a create: the prediction is created (and would be billed) as usual, then this fault's answer (status
   * or hang) goes back instead of the 201, as when Replicate's answer is lost on the way.
   */
  afterCreate?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  at: number;
  status: number;
  authorization: string | undefined;
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

interface Prediction {
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
  redirectTo?: string;
  /** Where the create asked for its completion to be posted (its `webhook`). */
  webhook?: string;
}

/** What becomes of a completion's webhook: sent signed, lost on the way, or sent with a wrong signature. */
export type WebhookDelivery = "deliver" | "drop" | "bad_signature";

/** A completion posted (or dropped) to a create's `webhook`, with what was sent, so a test can send it again. */
export interface WebhookRecord {
  predictionId: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  /** The receiver's answer; 0 when it was dropped or the post failed. */
  status: number;
  dropped: boolean;
}

export interface FakeReplicateOptions {
  token: string;
  /** Models that answer 404, as a retired model does. */
  missingModels?: string[];
  latencyMs?: number;
  /** Chooses latency and outcome for each create (0-based count of creates so far). */
  behaviour?: (input: Record<string, unknown>, index: number) => Behaviour;
  /** PNG served for successful predictions; a small real image by default. */
  outputImage?: Buffer;
  /** Predictions per page of `GET /v1/predictions` (newest first, with a `next` cursor URL as Replicate has). */
  listPageSize?: number;
  /** Base URL of the list's `next` links instead of this server's own (a list pointing elsewhere). */
  listNextBase?: string;
  /** The webhook signing secret (`whsec_…`), served at `GET /v1/webhooks/default/secret`; random by default. */
  webhookSecret?: string;
  /** What happens to completions' webhooks (default "deliver"); `webhookDelivery` changes it later. */
  webhookDelivery?: WebhookDelivery;
}

export class FakeReplicate {
  readonly requests: RecordedRequest[] = [];
  readonly creates: CreateRecord[] = [];
  readonly cancels: string[] = [];
  /** Every `POST /v1/predictions/{id}/cancel` received, whether or not the prediction was known. */
  readonly cancelRequests: string[] = [];
  readonly rejectedInputs: Array<{ model: string; fields: string[] }> = [];
  /** Files uploaded with `POST /v1/files`, by id: what a model reading the file's `urls.get` receives. */
  readonly uploads = new Map<string, { data: Buffer; contentType: string }>();
  /** Creates stored and held open without an answer (Behaviour.hold), in the order they came. */
  readonly held: CreateRecord[] = [];
  private readonly heldWaiters: Array<{ count: number; resolve: (held: CreateRecord[]) => void }> = [];
  private readonly faults: Fault[] = [];
  private readonly predictions = new Map<string, Prediction>();
  /** While true, every prediction reports itself still processing, whatever its latency: see `holdResults`. */
  private resultsHeld = false;
  private readonly hanging = new Set<ServerResponse>();
  /** Completion webhooks posted or dropped, in order. */
  readonly webhooks: WebhookRecord[] = [];
  readonly webhookSecret: string;
  webhookDelivery: WebhookDelivery;
  private readonly webhookTimers = new Set<NodeJS.Timeout>();
  private closed = false;
  private origin = "";
  private port = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeReplicateOptions,
    private readonly image: Buffer,
  ) {
    this.webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString("base64")}`;
    this.webhookDelivery = options.webhookDelivery ?? "deliver";
  }

  static async start(options: FakeReplicateOptions): Promise<FakeReplicate> {
    const image =
      options.outputImage ??
      (await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3a7" } })
        .png()
        .toBuffer());
    const server = createServer();
    const fake = new FakeReplicate(server, options, image);
    server.on("request", (req, res) => {
      fake.handle(req, res).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake.port = (server.address() as AddressInfo).port;
    fake.origin = `http://127.0.0.1:${fake.port}`;
    return fake;
  }

  /** The base URL to hand the bot as REPLICATE_API_URL. */
  get url(): string {
    return `${this.origin}/v1`;
  }

  /** Forgets a prediction, as Replicate does with old ones: its status and cancel answer 404 from now on. */
  forget(predictionId: string): void {
    this.predictions.delete(predictionId);
  }

  /** The origin this server's output files are served from. */
  get filesOrigin(): string {
    return this.origin;
  }

  /**
   * Stops listening and drops open connections, so new ones are refused (ECONNREFUSED) until
   * `acceptConnections`; the port stays the same.
   */
  async refuseConnections(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens again on the same port; resolves once it does. */
  acceptConnections(): Promise<void> {
    return new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
  }

  /**
   * Holds every prediction's result until `releaseResults`: they stay "processing". A test can then observe what
   * the bot does while predictions run (how many it created, what it recorded) without racing their latency.
   */
  holdResults(): void {
    this.resultsHeld = true;
  }

  releaseResults(): void {
    this.resultsHeld = false;
  }

  /** Resolves once `count` creates are stored and held open, with them. */
  whenHeld(count: number): Promise<CreateRecord[]> {
    if (this.held.length >= count) return Promise.resolve(this.held.slice(0, count));
    return new Promise((resolve) => this.heldWaiters.push({ count, resolve }));
  }

  /**
   * The most predictions that were running at once: each counts from its create until its own running time
   * ended (held results aside), as Replicate bills and as MAX_CONCURRENT_PREDICTIONS bounds.
   */
  peakInFlight(): number {
    const edges = this.creates.flatMap((c) => [
      { at: c.at, step: 1 },
      { at: c.at + c.latencyMs, step: -1 },
    ]);
    // An end and a start at the same moment: the end first, as the slot was free for the start.
    edges.sort((a, b) => a.at - b.at || a.step - b.step);
    let running = 0;
    let peak = 0;
    for (const edge of edges) {
      running += edge.step;
      peak = Math.max(peak, running);
    }
    return peak;
  }

  /**
   * The images a create's `image_input` named, as the model would read them: a data: URI decoded, a file
   * uploaded here by its bytes, anything else (a link elsewhere) as undefined. The input itself is in `creates`.
   */
  imageInputs(
    create: CreateRecord,
  ): Array<{ data: Buffer; mime: string; via: "data_uri" | "upload" } | undefined> {
    const urls = Array.isArray(create.input.image_input) ? (create.input.image_input as unknown[]) : [];
    return urls.map((url) => {
      const text = String(url);
      const inline = /^data:([\w/+.-]+);base64,(.*)$/s.exec(text);
      if (inline)
        return {
          data: Buffer.from(inline[2] as string, "base64"),
          mime: inline[1] as string,
          via: "data_uri",
        };
      const uploaded = new RegExp(`^${this.url}/files/(\\w+)/download$`).exec(text);
      const file = uploaded && this.uploads.get(uploaded[1] as string);
      return file ? { data: file.data, mime: file.contentType, via: "upload" } : undefined;
    });
  }

  /** Queues a one-shot fault for the next request that matches. */
  inject(fault: Fault): void {
    this.faults.push(fault);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.webhookTimers) clearTimeout(timer);
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const path = url.pathname;
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const body = raw.toString("utf8");
    const record = (status: number) =>
      this.requests.push({ method, path, at: Date.now(), status, authorization: req.headers.authorization });

    if (path.startsWith("/files/")) return this.serveFile(path.slice(7), res, record);
    // For a benchmark driving this server in another process: what was created, and each one's latency.
    if (path === "/_admin/creates") {
      return json(
        res,
        200,
        this.creates.map(({ input, ...c }) => ({ ...c, prompt: input.prompt })),
      );
    }

    const faultIndex = this.faults.findIndex(
      (f) => !f.afterCreate && f.method === method && path.startsWith(f.pathPrefix),
    );
    if (faultIndex >= 0) {
      const [fault] = this.faults.splice(faultIndex, 1) as [Fault];
      if (fault.hang) {
        record(0);
        this.hanging.add(res);
        return;
      }
      const status = fault.status ?? 500;
      record(status);
      return json(res, status, { detail: "injected fault", status }, fault.retryAfter);
    }

    // A file's `urls.get`: readable without the token, as a model fetching its input reads it.
    const download = /^\/v1\/files\/(\w+)\/download$/.exec(path);
    if (method === "GET" && download) {
      const file = this.uploads.get(download[1] as string);
      record(file ? 200 : 404);
      if (!file) return json(res, 404, { detail: "Not found.", status: 404 });
      res
        .writeHead(200, { "Content-Type": file.contentType, "Content-Length": file.data.length })
        .end(file.data);
      return;
    }

    if (req.headers.authorization !== `Bearer ${this.options.token}`) {
      record(401);
      return json(res, 401, { detail: "You did not pass a valid authentication token", status: 401 });
    }

    if (method === "POST" && path === "/v1/files") {
      // Multipart as Replicate takes it: the bytes in `content`, JSON in `metadata`; parsed by undici.
      const form = await new Response(new Uint8Array(raw), {
        headers: { "content-type": req.headers["content-type"] ?? "" },
      }).formData();
      const content = form.get("content");
      if (!(content instanceof Blob)) {
        record(400);
        return json(res, 400, { detail: "content is required", status: 400 });
      }
      const data = Buffer.from(await content.arrayBuffer());
      const id = randomBytes(12).toString("hex");
      const contentType = content.type || "application/octet-stream";
      this.uploads.set(id, { data, contentType });
      record(201);
      return json(res, 201, {
        id,
        content_type: contentType,
        size: data.length,
        checksums: { sha256: createHash("sha256").update(data).digest("hex") },
        metadata: JSON.parse((await (form.get("metadata") as Blob | null)?.text()) || "{}"),
        created_at: new Date().toISOString(),
        expires_at: null,
        urls: { get: `${this.url}/files/${id}/download` },
      });
    }

    const create = /^\/v1\/models\/([\w.-]+\/[\w.-]+)\/predictions$/.exec(path);
    if (method === "POST" && create) {
      const model = create[1] as string;
      if (this.options.missingModels?.includes(model) || !PUBLISHED_INPUTS[model]) {
        record(404);
        return json(res, 404, { detail: "The requested resource could not be found.", status: 404 });
      }
      const parsed = JSON.parse(body || "{}") as {
        input?: Record<string, unknown>;
        webhook?: unknown;
        webhook_events_filter?: unknown;
      };
      const input = parsed.input ?? {};
      const undeclared = Object.keys(input).filter((k) => !PUBLISHED_INPUTS[model]?.includes(k));
      if (undeclared.length || typeof input.prompt !== "string") {
        this.rejectedInputs.push({ model, fields: undeclared });
        record(422);
        return json(res, 422, {
          detail: `input has undeclared fields: ${undeclared.join(", ")}`,
          status: 422,
        });
      }
      const index = this.creates.length;
      const behaviour = this.options.behaviour?.(input, index) ?? {};
      const id = randomBytes(12).toString("hex");
      const now = Date.now();
      const latencyMs = behaviour.latencyMs ?? this.options.latencyMs ?? 300;
      this.predictions.set(id, {
        seq: index,
        id,
        model,
        input,
        createdAt: now,
        readyAt: now + latencyMs,
        outcome: behaviour.outcome ?? "ok",
        canceled: false,
        ...(behaviour.outputUrl ? { outputUrl: behaviour.outputUrl } : {}),
        ...(behaviour.redirectTo ? { redirectTo: behaviour.redirectTo } : {}),
        ...(typeof parsed.webhook === "string" ? { webhook: parsed.webhook } : {}),
      });
      this.scheduleWebhook(id, latencyMs);
      const created = {
        id,
        model,
        input,
        at: now,
        latencyMs,
        ...(parsed.webhook !== undefined
          ? { webhook: { url: parsed.webhook, events: parsed.webhook_events_filter } }
          : {}),
      };
      this.creates.push(created);
      if (behaviour.hold) {
        record(0);
        this.hanging.add(res);
        this.held.push(created);
        for (const w of this.heldWaiters.filter((w) => this.held.length >= w.count)) {
          this.heldWaiters.splice(this.heldWaiters.indexOf(w), 1);
          w.resolve(this.held.slice(0, w.count));
        }
        return;
      }
      const lost = this.faults.findIndex(
        (f) => f.afterCreate && f.method === method && path.startsWith(f.pathPrefix),
      );
      if (lost >= 0) {
        const [fault] = this.faults.splice(lost, 1) as [Fault];
        if (fault.hang) {
          record(0);
          this.hanging.add(res);
          return;
        }
        record(fault.status ?? 502);
        return json(res, fault.status ?? 502, {
          detail: "injected fault after create",
          status: fault.status,
        });
      }
      record(201);
      return json(res, 201, this.view(this.predictions.get(id) as Prediction));
    }

    if (method === "GET" && path === "/v1/webhooks/default/secret") {
      record(200);
      return json(res, 200, { key: this.webhookSecret });
    }

    if (method === "GET" && path === "/v1/predictions") {
      // Newest first; the cursor is the creation order of the last prediction on the previous page.
      const size = this.options.listPageSize ?? 100;
      const cursor = url.searchParams.get("cursor");
      const before = cursor ? Number(Buffer.from(cursor, "base64url").toString()) : Number.POSITIVE_INFINITY;
      const older = [...this.predictions.values()]
        .filter((p) => p.seq < before)
        .sort((a, b) => b.seq - a.seq);
      const page = older.slice(0, size);
      const last = page.at(-1);
      record(200);
      return json(res, 200, {
        previous: null,
        next:
          older.length > size && last
            ? `${this.options.listNextBase ?? this.url}/predictions?cursor=${Buffer.from(String(last.seq)).toString("base64url")}`
            : null,
        results: page.map((p) => ({ ...this.view(p), source: "api", data_removed: false })),
      });
    }

    const get = /^\/v1\/predictions\/(\w+)(\/cancel)?$/.exec(path);
    if (get) {
      const prediction = this.predictions.get(get[1] as string);
      if (!prediction) {
        if (get[2] && method === "POST") this.cancelRequests.push(get[1] as string);
        record(404);
        return json(res, 404, { detail: "Not found.", status: 404 });
      }
      if (get[2] && method === "POST") {
        this.cancelRequests.push(prediction.id);
        prediction.canceled = true;
        this.cancels.push(prediction.id);
      }
      record(200);
      return json(res, 200, this.view(prediction));
    }

    record(404);
    json(res, 404, { detail: "Not found.", status: 404 });
  }

  /**
   * Signs a delivery the Standard Webhooks way (written here apart from the bot's own check): base64 HMAC-SHA256
   * of `${id}.${timestamp}.${body}` keyed with the secret's base64 part. For tests that post deliveries themselves.
   */
  signDelivery(
    body: string,
    webhookId: string,
    timestamp: number,
    secret = this.webhookSecret,
  ): Record<string, string> {
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    const mac = createHmac("sha256", key).update(`${webhookId}.${timestamp}.${body}`).digest("base64");
    return {
      "content-type": "application/json",
      "webhook-id": webhookId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `v1,${mac}`,
    };
  }

  /** Posts the completion to the create's webhook once the prediction has ended (held results wait). */
  private scheduleWebhook(id: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.webhookTimers.delete(timer);
      const prediction = this.predictions.get(id);
      if (this.closed || !prediction?.webhook) return;
      const view = this.view(prediction);
      if (view.status === "starting" || view.status === "processing") return this.scheduleWebhook(id, 25);
      void this.sendWebhook(prediction.webhook, id, JSON.stringify(view));
    }, delayMs);
    this.webhookTimers.add(timer);
  }

  private async sendWebhook(url: string, predictionId: string, body: string): Promise<void> {
    const secret =
      this.webhookDelivery === "bad_signature"
        ? `whsec_${randomBytes(24).toString("base64")}`
        : this.webhookSecret;
    const headers = this.signDelivery(
      body,
      `msg_${randomBytes(12).toString("hex")}`,
      Math.floor(Date.now() / 1000),
      secret,
    );
    const entry: WebhookRecord = {
      predictionId,
      url,
      headers,
      body,
      at: Date.now(),
      status: 0,
      dropped: false,
    };
    this.webhooks.push(entry);
    if (this.webhookDelivery === "drop") {
      entry.dropped = true;
      return;
    }
    try {
      const res = await fetch(url, { method: "POST", headers, body });
      entry.status = res.status;
      await res.arrayBuffer();
    } catch {
      entry.status = 0;
    }
  }

  private view(p: Prediction) {
    const base = {
      id: p.id,
      model: p.model,
      version: "hidden",
      input: p.input,
      logs: "",
      error: null as string | null,
      output: null as string | null,
      created_at: new Date(p.createdAt).toISOString(),
      urls: { get: `${this.url}/predictions/${p.id}`, cancel: `${this.url}/predictions/${p.id}/cancel` },
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
        return { ...base, status: "succeeded", output: p.outputUrl ?? `${this.origin}/files/${p.id}` };
    }
  }

  private serveFile(id: string, res: ServerResponse, record: (status: number) => void): void {
    const prediction = this.predictions.get(id);
    if (!prediction) {
      record(404);
      res.writeHead(404).end();
      return;
    }
    if (prediction.redirectTo) {
      record(302);
      res.writeHead(302, { Location: prediction.redirectTo }).end();
      return;
    }
    record(200);
    if (prediction.outcome === "not_image") {
      res.writeHead(200, { "Content-Type": "image/png" }).end("<html><body>not an image</body></html>");
    } else if (prediction.outcome === "oversized") {
      // No Content-Length: the bot must count while it reads.
      res.writeHead(200, { "Content-Type": "image/png" });
      const chunk = Buffer.alloc(1024 * 1024, 7);
      let sent = 0;
      const pump = () => {
        while (sent < 30 && res.write(chunk)) sent++;
        if (sent >= 30) res.end();
        else res.once("drain", pump);
      };
      res.write(this.image);
      pump();
      res.on("error", () => {});
    } else if (VIDEO_MODELS.has(prediction.model)) {
      res
        .writeHead(200, { "Content-Type": "video/mp4", "Content-Length": SAMPLE_VIDEO.length })
        .end(SAMPLE_VIDEO);
    } else {
      res
        .writeHead(200, { "Content-Type": "image/png", "Content-Length": this.image.length })
        .end(this.image);
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown, retryAfter?: string): void {
  res.writeHead(status, {
    "Content-Type": "application/json",
    ...(retryAfter ? { "Retry-After": retryAfter } : {}),
  });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
