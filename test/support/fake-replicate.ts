// A local stand-in for Replicate's HTTP API: create, get, list and cancel predictions and serve their output
// files, with the faults a real deployment meets (latency, 429 + Retry-After, 5xx, hangs, lost create answers,
// creates held open while the bot dies, refused connections, safety failures, bad files, outputs elsewhere
// and redirects).
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { type Behaviour, type CreateRecord, type Prediction, PredictionStore } from "./fake-predictions.ts";
import { type Fault, FaultQueue } from "./fake-replicate-faults.ts";
import { readImageInputs, serveOutput, storeUpload, type UploadedFile } from "./fake-replicate-files.ts";
import { AccountLimiter, type AccountLimits, isCreate } from "./fake-replicate-limits.ts";
import { type WebhookDelivery, type WebhookRecord, WebhookSender } from "./fake-replicate-webhooks.ts";
import { PUBLISHED_INPUTS, PUBLISHED_VERSIONS, VERSIONED_MODELS } from "./replicate-models.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  at: number;
  status: number;
  authorization: string | undefined;
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
  /** Replicate's account limits, enforced over rolling minutes with 429 + Retry-After; none by default. */
  accountLimits?: AccountLimits;
}

/** One request as the routes see it: where it went, its body, and how to log the status it was answered. */
interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  url: URL;
  raw: Buffer;
  record(status: number): void;
}

export class FakeReplicate {
  readonly requests: RecordedRequest[] = [];
  readonly creates: CreateRecord[] = [];
  readonly cancels: string[] = [];
  /** Every `POST /v1/predictions/{id}/cancel` received, whether or not the prediction was known. */
  readonly cancelRequests: string[] = [];
  readonly rejectedInputs: Array<{ model: string; fields: string[] }> = [];
  /** Files uploaded with `POST /v1/files`, by id: what a model reading the file's `urls.get` receives. */
  readonly uploads = new Map<string, UploadedFile>();
  /** Uploads removed with `DELETE /v1/files/{id}`, by id, in order. */
  readonly deletedUploads: string[] = [];
  /** Creates stored and held open without an answer (Behaviour.hold), in the order they came. */
  readonly held: CreateRecord[] = [];
  private readonly heldWaiters: Array<{ count: number; resolve: (held: CreateRecord[]) => void }> = [];
  private readonly faults = new FaultQueue();
  private readonly predictions = new PredictionStore(this);
  private readonly webhookSender: WebhookSender;
  /** The account limits, when enforced: what they refused is in `limiter.refused`. */
  readonly limiter: AccountLimiter | undefined;
  private origin = "";
  private port = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeReplicateOptions,
    private readonly image: Buffer,
  ) {
    this.webhookSender = new WebhookSender(
      this.predictions,
      options.webhookSecret ?? `whsec_${randomBytes(24).toString("base64")}`,
      options.webhookDelivery ?? "deliver",
    );
    this.limiter = options.accountLimits ? new AccountLimiter(options.accountLimits) : undefined;
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

  /** The origin this server's output files are served from. */
  get filesOrigin(): string {
    return this.origin;
  }

  /** Completion webhooks posted or dropped, in order. */
  get webhooks(): WebhookRecord[] {
    return this.webhookSender.records;
  }

  get webhookSecret(): string {
    return this.webhookSender.secret;
  }

  get webhookDelivery(): WebhookDelivery {
    return this.webhookSender.delivery;
  }

  set webhookDelivery(delivery: WebhookDelivery) {
    this.webhookSender.delivery = delivery;
  }

  /** Forgets a prediction, as Replicate does with old ones: its status and cancel answer 404 from now on. */
  forget(predictionId: string): void {
    this.predictions.forget(predictionId);
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
    this.predictions.holdResults(true);
  }

  releaseResults(): void {
    this.predictions.holdResults(false);
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
    return readImageInputs(create, this.uploads, this.url);
  }

  /** Queues a one-shot fault for the next request that matches. */
  inject(fault: Fault): void {
    this.faults.add(fault);
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
    return this.webhookSender.sign(body, webhookId, timestamp, secret);
  }

  async close(): Promise<void> {
    this.webhookSender.close();
    this.faults.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const path = url.pathname;
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const record = (status: number) => {
      this.requests.push({ method, path, at: Date.now(), status, authorization: req.headers.authorization });
    };
    const call: Call = { req, res, method, path, url, raw, record };

    if (path.startsWith("/files/"))
      return record(serveOutput(this.predictions.get(path.slice(7)), this.image, res));
    // For a benchmark driving this server in another process: what was created, and each one's latency.
    if (path === "/_admin/creates") {
      return json(
        res,
        200,
        this.creates.map(({ input, ...c }) => ({ ...c, prompt: input.prompt })),
      );
    }
    // Every API request as [when, create or not, status], and what the account limits refused.
    if (path === "/_admin/requests") {
      const api = this.requests.filter((r) => r.path.startsWith("/v1/"));
      const rows = api.map((r) => [r.at, isCreate(r.method, r.path) ? 1 : 0, r.status]);
      return json(res, 200, { requests: rows, refused: this.limiter?.refused });
    }
    const fault = this.faults.take(method, path, false);
    if (fault) {
      const status = fault.status ?? 500;
      return this.answerFault(call, fault, { detail: "injected fault", status }, fault.retryAfter);
    }
    // A file's `urls.get`: readable without the token, as a model fetching its input reads it.
    const download = /^\/v1\/files\/(\w+)\/download$/.exec(path);
    if (method === "GET" && download) return this.serveUpload(call, download[1] as string);
    if (req.headers.authorization !== `Bearer ${this.options.token}`) {
      record(401);
      return json(res, 401, { detail: "You did not pass a valid authentication token", status: 401 });
    }
    const retryAfter = this.limiter?.refuse(isCreate(method, path));
    if (retryAfter) {
      record(429);
      const detail = `Request was throttled. Expected available in ${retryAfter} seconds.`;
      return json(res, 429, { detail, status: 429 }, retryAfter);
    }
    return this.route(call);
  }

  /** The routes behind the token. */
  private async route(call: Call): Promise<void> {
    const { method, path, res, record } = call;
    if (method === "POST" && path === "/v1/files") return this.upload(call);
    const file = /^\/v1\/files\/(\w+)$/.exec(path);
    if (method === "DELETE" && file) return this.deleteUpload(call, file[1] as string);
    const create = /^\/v1\/models\/([\w.-]+\/[\w.-]+)\/predictions$/.exec(path);
    // A community model has no model endpoint: it is created by version only, as on Replicate.
    if (method === "POST" && create && !VERSIONED_MODELS.has(create[1] as string))
      return this.create(call, create[1] as string);
    if (method === "POST" && path === "/v1/predictions") return this.createByVersion(call);
    if (method === "GET" && path === "/v1/webhooks/default/secret") {
      record(200);
      return json(res, 200, { key: this.webhookSecret });
    }
    if (method === "GET" && path === "/v1/predictions") return this.list(call);
    const get = /^\/v1\/predictions\/(\w+)(\/cancel)?$/.exec(path);
    if (get) return this.getOrCancel(call, get[1] as string, method === "POST" && get[2] !== undefined);
    record(404);
    json(res, 404, { detail: "Not found.", status: 404 });
  }

  /**
   * A queued fault's answer: its status (500 in place of a request, 502 for a create's lost answer) or, for a
   * hang, none at all.
   */
  private answerFault(call: Call, fault: Fault, body: Record<string, unknown>, retryAfter?: string): void {
    if (fault.hang) {
      call.record(0);
      this.faults.hang(call.res);
      return;
    }
    const status = fault.status ?? (fault.afterCreate ? 502 : 500);
    call.record(status);
    json(call.res, status, body, retryAfter);
  }

  /** `DELETE /v1/files/{id}`: 204 and the file is gone (its URL answers 404 from now on), or 404. */
  private deleteUpload({ res, record }: Call, id: string) {
    const known = this.uploads.delete(id);
    if (known) this.deletedUploads.push(id);
    record(known ? 204 : 404);
    if (!known) return json(res, 404, { detail: "Not found.", status: 404 });
    res.writeHead(204).end();
  }

  private serveUpload({ res, record }: Call, id: string) {
    const file = this.uploads.get(id);
    record(file ? 200 : 404);
    if (!file) return json(res, 404, { detail: "Not found.", status: 404 });
    res
      .writeHead(200, { "Content-Type": file.contentType, "Content-Length": file.data.length })
      .end(file.data);
  }

  private async upload({ req, res, raw, record }: Call) {
    const file = await storeUpload(raw, req.headers["content-type"] ?? "", this.uploads, this.url);
    if (!file) {
      record(400);
      return json(res, 400, { detail: "content is required", status: 400 });
    }
    record(201);
    return json(res, 201, file);
  }

  /** `POST /v1/predictions` with a `version`: a published version of a community model. */
  private createByVersion(call: Call) {
    const { version } = JSON.parse(call.raw.toString("utf8") || "{}") as { version?: unknown };
    const model = typeof version === "string" ? PUBLISHED_VERSIONS[version] : undefined;
    if (!model) {
      call.record(422);
      return json(call.res, 422, { detail: "Invalid version or not permitted.", status: 422 });
    }
    return this.create(call, model);
  }

  private create(call: Call, model: string) {
    const { res, record } = call;
    if (this.options.missingModels?.includes(model) || !PUBLISHED_INPUTS[model]) {
      record(404);
      return json(res, 404, { detail: "The requested resource could not be found.", status: 404 });
    }
    const parsed = JSON.parse(call.raw.toString("utf8") || "{}") as {
      input?: Record<string, unknown>;
      webhook?: unknown;
      webhook_events_filter?: unknown;
    };
    const input = parsed.input ?? {};
    const declared = PUBLISHED_INPUTS[model] ?? [];
    const undeclared = Object.keys(input).filter((k) => !declared.includes(k));
    // The one required field: a prompt, or the image an upscaler enlarges.
    const required = declared.includes("prompt") ? "prompt" : "image";
    if (undeclared.length || typeof input[required] !== "string") {
      this.rejectedInputs.push({ model, fields: undeclared });
      record(422);
      return json(res, 422, {
        detail: `input has undeclared fields: ${undeclared.join(", ")}`,
        status: 422,
      });
    }
    const behaviour = this.options.behaviour?.(input, this.creates.length) ?? {};
    const created = this.store(model, input, parsed, behaviour);
    if (behaviour.hold) return this.holdCreate(call, created);
    const lost = this.faults.take(call.method, call.path, true);
    if (lost) {
      return this.answerFault(call, lost, { detail: "injected fault after create", status: lost.status });
    }
    record(201);
    return json(res, 201, this.predictions.view(this.predictions.get(created.id) as Prediction));
  }

  /** Stores a create's prediction (billed from now on) and schedules its webhook. */
  private store(
    model: string,
    input: Record<string, unknown>,
    parsed: { webhook?: unknown; webhook_events_filter?: unknown },
    behaviour: Behaviour,
  ): CreateRecord {
    const id = randomBytes(12).toString("hex");
    const now = Date.now();
    const latencyMs = behaviour.latencyMs ?? this.options.latencyMs ?? 300;
    this.predictions.add({
      seq: this.creates.length,
      id,
      model,
      input,
      createdAt: now,
      readyAt: now + latencyMs,
      outcome: behaviour.outcome ?? "ok",
      canceled: false,
      ...(behaviour.outputUrl ? { outputUrl: behaviour.outputUrl } : {}),
      ...(behaviour.outputImage ? { outputImage: behaviour.outputImage } : {}),
      ...(behaviour.redirectTo ? { redirectTo: behaviour.redirectTo } : {}),
      ...(typeof parsed.webhook === "string" ? { webhook: parsed.webhook } : {}),
    });
    this.webhookSender.schedule(id, latencyMs);
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
    return created;
  }

  /** Keeps a stored create unanswered, and tells whoever waits for that many held creates. */
  private holdCreate(call: Call, created: CreateRecord): void {
    call.record(0);
    this.faults.hang(call.res);
    this.held.push(created);
    for (const w of this.heldWaiters.filter((w) => this.held.length >= w.count)) {
      this.heldWaiters.splice(this.heldWaiters.indexOf(w), 1);
      w.resolve(this.held.slice(0, w.count));
    }
  }

  /** Newest first; the cursor is the creation order of the last prediction on the previous page. */
  private list({ url, res, record }: Call) {
    const size = this.options.listPageSize ?? 100;
    const cursor = url.searchParams.get("cursor");
    const before = cursor ? Number(Buffer.from(cursor, "base64url").toString()) : Number.POSITIVE_INFINITY;
    const older = this.predictions.olderThan(before);
    const page = older.slice(0, size);
    const last = page.at(-1);
    record(200);
    return json(res, 200, {
      previous: null,
      next:
        older.length > size && last
          ? `${this.options.listNextBase ?? this.url}/predictions?cursor=${Buffer.from(String(last.seq)).toString("base64url")}`
          : null,
      results: page.map((p) => ({ ...this.predictions.view(p), source: "api", data_removed: false })),
    });
  }

  private getOrCancel({ res, record }: Call, id: string, cancel: boolean) {
    const prediction = this.predictions.get(id);
    if (!prediction) {
      if (cancel) this.cancelRequests.push(id);
      record(404);
      return json(res, 404, { detail: "Not found.", status: 404 });
    }
    if (cancel) {
      this.cancelRequests.push(prediction.id);
      prediction.canceled = true;
      this.cancels.push(prediction.id);
    }
    record(200);
    return json(res, 200, this.predictions.view(prediction));
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
