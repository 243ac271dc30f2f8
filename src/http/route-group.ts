// What a route group of the operations HTTP server receives, and the limits every route shares.
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../features/context.ts";

/** What the routes may ask of the running process beyond the application context. */
export interface HttpDeps {
  ctx: AppContext;
  /** Whether this process's Discord gateway connection is up; absent in processes without one. */
  gatewayReady?: () => boolean;
  /** Where the process is: readiness fails until its role has started and from when it begins to stop. */
  phase?: () => ProcessPhase;
  /** With INTERACTIONS_MODE=http: what takes a verified interaction, once the role has started. */
  interactions?: () => InteractionReceiver | undefined;
}

/** Takes an interaction received over HTTP (its signature verified) and resolves with the response's body. */
export interface InteractionReceiver {
  receive(payload: { id: string; type: number; token: string; application_id: string }): Promise<unknown>;
}

export type ProcessPhase = "starting" | "running" | "stopping";

/** The largest request body taken (a Replicate webhook is a prediction, a few kB); larger ones get 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A route group: registers its routes on the server. */
export type RouteGroup = (app: FastifyInstance, deps: HttpDeps) => void | Promise<void>;
