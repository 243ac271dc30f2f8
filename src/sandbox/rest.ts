// The local server's REST API under /api/v10: each request checked for faults to inject, the bot's token and
// Discord's global limit, then its body read and handed to its route (rest-routes.ts), and every answer recorded.
import type { IncomingMessage, ServerResponse } from "node:http";
import { RESTJSONErrorCodes as Codes } from "discord-api-types/v10";
import { BodyTooLargeError, parseBody, readBody, type UploadedFile } from "./body.ts";
import { error, type RestHost, ROUTES } from "./rest-routes.ts";
import type { SandboxState } from "./state.ts";
import type { Fault, Violation } from "./types.ts";
import { type BodyKind, validateBody } from "./validation.ts";

/** One request as the server answered it: when it arrived, and whether it carried the bot's token. */
export interface RequestLogEntry {
  method: string;
  route: string;
  status: number;
  at: number;
  lane: "bot" | "interaction";
}

/** One request on its way through the checks: what it is, and how it is answered (and recorded). */
interface Exchange {
  req: IncomingMessage;
  method: string;
  /** The decoded path after /api/v10. */
  route: string;
  arrived: number;
  lane: RequestLogEntry["lane"];
  reply(status: number, body?: unknown, headers?: Record<string, string>): void;
}

/** A request's body once read: JSON or multipart fields, and the uploaded files. */
interface ReadBody {
  body: unknown;
  files: UploadedFile[];
}

/** Serves /api/v10 and keeps what tests look at: the request log, schema violations, injected faults. */
export class RestApi {
  readonly violations: Violation[] = [];
  readonly requestLog: RequestLogEntry[] = [];
  /** Count of REST bodies checked against the official schemas. */
  validatedRequests = 0;
  /**
   * Bot-token requests to a channel where the bot is not a member (interactions from a member's own install
   * there): each answered 403 Missing Access, as Discord does, and kept so a test can expect none.
   */
  readonly refusedBotRequests: RequestLogEntry[] = [];
  private readonly faults: Fault[] = [];
  /** Discord's global limit on bot-token requests per second, when a test asks for it to be enforced. */
  private globalLimit: number | undefined;
  /** When the bot-token requests of the last second arrived (for the global limit). */
  private readonly botRequestTimes: number[] = [];

  constructor(
    private readonly host: RestHost,
    /** Larger bodies are answered with 413 without being read. */
    private readonly maxBodyBytes: number,
  ) {}

  injectFault(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /**
   * Answers bot-token requests beyond `perSecond` in any second with a global 429, as Discord does past its
   * 50 a second; interaction-token requests are not counted, as Discord does not count them.
   */
  enforceGlobalLimit(perSecond: number): void {
    this.globalLimit = perSecond;
  }

  /** Answers one request; `route` is its decoded path after /api/v10. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string, url: URL): Promise<void> {
    const exchange = this.exchange(req, res, route);
    if (this.answeredByFault(exchange) || this.refusedUnauthorised(exchange)) return;
    if (this.refusedWhereBotAbsent(exchange)) return;
    if (this.refusedByGlobalLimit(exchange)) return;
    // Only now, with the caller known, is the body read, and only up to the cap.
    const read = await this.readBody(exchange);
    if (read) this.route(exchange, url, read);
  }

  private exchange(req: IncomingMessage, res: ServerResponse, route: string): Exchange {
    const method = req.method ?? "GET";
    const arrived = Date.now();
    const lane = req.headers.authorization === undefined ? "interaction" : "bot";
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requestLog.push({ method, route, status, at: arrived, lane });
      if (body === undefined) res.writeHead(status, headers).end();
      else sendJson(res, status, body, headers);
    };
    return { req, method, route, arrived, lane, reply };
  }

  /** An injected fault for this request, if one waits: a 429 for a route, or a server error. */
  private answeredByFault({ method, route, reply }: Exchange): boolean {
    const fault = this.faults.find((f) => f.method === method && f.path.test(route));
    if (!fault) return false;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    if (fault.status === 429) {
      const retryAfter = fault.retryAfterSeconds ?? 0.2;
      reply(
        429,
        { message: "You are being rate limited.", retry_after: retryAfter, global: false },
        { "Retry-After": String(Math.ceil(retryAfter)), "X-RateLimit-Scope": "user" },
      );
    } else if (fault.status === 403) {
      reply(403, error("Missing Access", 50001));
    } else {
      reply(fault.status, error("Server error", 0));
    }
    return true;
  }

  /**
   * Interaction routes are authorised by the token in their path and come without a header; a header that is
   * sent must still be the bot's. Everything else needs the bot token.
   */
  private refusedUnauthorised({ req, route, reply }: Exchange): boolean {
    const isInteractionRoute = route.startsWith("/interactions/") || route.startsWith("/webhooks/");
    const auth = req.headers.authorization;
    if ((auth !== undefined || !isInteractionRoute) && auth !== `Bot ${this.host.token}`) {
      reply(401, error("401: Unauthorized", 0));
      return true;
    }
    return false;
  }

  /** A bot-token request to a channel the bot is not in gets 403 Missing Access, and is kept. */
  private refusedWhereBotAbsent({ method, route, arrived, lane, reply }: Exchange): boolean {
    const channelId = /^\/channels\/(\d+)(?:\/|$)/.exec(route)?.[1];
    if (lane !== "bot" || !channelId || !this.host.state.interactionOnlyChannels.has(channelId)) return false;
    this.refusedBotRequests.push({ method, route, status: 403, at: arrived, lane });
    reply(403, error("Missing Access", Codes.MissingAccess));
    return true;
  }

  /** A bot-token request past the global limit (when one is enforced) gets Discord's global 429. */
  private refusedByGlobalLimit({ lane, arrived, reply }: Exchange): boolean {
    if (lane !== "bot" || this.globalLimit === undefined) return false;
    const times = this.botRequestTimes;
    while (times.length > 0 && (times[0] as number) <= arrived - 1000) times.shift();
    if (times.length < this.globalLimit) {
      times.push(arrived);
      return false;
    }
    const retryAfter = ((times[0] as number) + 1000 - arrived) / 1000;
    reply(
      429,
      { message: "You are being rate limited.", retry_after: retryAfter, global: true },
      {
        "Retry-After": String(Math.ceil(retryAfter)),
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
      },
    );
    return true;
  }

  /** The body, or undefined once a body too large (413) or not readable (400) is answered. */
  private async readBody({ req, reply }: Exchange): Promise<ReadBody | undefined> {
    try {
      return await parseBody(req, await readBody(req, this.maxBodyBytes));
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        reply(413, error("Request entity too large", Codes.RequestEntityTooLarge), { Connection: "close" });
      } else {
        reply(400, error(`Invalid body: ${(err as Error).message}`, Codes.RequestBodyContainsInvalidJSON));
      }
      return undefined;
    }
  }

  /** Hands the request to the first route of its method whose path matches; 404 when none does. */
  private route(exchange: Exchange, url: URL, { body, files }: ReadBody): void {
    const { method, route, reply } = exchange;
    for (const r of ROUTES) {
      const match = r.method === method ? r.path.exec(route) : null;
      if (!match) continue;
      const invalid = (kind: BodyKind) => this.invalid(exchange, kind, body);
      r.handle({
        host: this.host,
        method,
        route,
        url,
        params: match.slice(1),
        body,
        files,
        reply,
        invalid,
      });
      return;
    }
    reply(404, error("404: Not Found", 0));
  }

  /** Answers 400 and records a violation when `body` does not match the official schema for `kind`. */
  private invalid({ method, route, reply }: Exchange, kind: BodyKind, body: unknown): boolean {
    this.validatedRequests++;
    const problems = validateBody(kind, body);
    if (problems.length === 0) return false;
    this.violations.push({ method, route, problems });
    reply(400, { ...error("Invalid Form Body", Codes.InvalidFormBodyOrContentType), errors: problems });
    return true;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
}

/** GET /attachments/<channel>/<id>/<name>: a stored attachment's bytes, as Discord's CDN serves them. */
export function sendAttachment(state: SandboxState, path: string, res: ServerResponse): void {
  const [, , , id] = path.split("/");
  const attachment = state.attachment(id);
  if (!attachment) {
    res.writeHead(404).end();
    return;
  }
  res
    .writeHead(200, {
      "Content-Type": attachment.content_type ?? "application/octet-stream",
      "Content-Length": attachment.size,
      "Cache-Control": "max-age=3600",
    })
    .end(attachment.data);
}
