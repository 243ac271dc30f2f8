// Keeps the sandbox's local server to its own page and its own bot. It runs on the user's machine while they
// browse, so a page on another site (or one reached through a DNS name rebound to 127.0.0.1) must not be able
// to drive it from their browser: requests must name the server's own Host, and any Origin must be its own.
import type { IncomingMessage } from "node:http";

/** The Host values the server answers to: its own address by IP or by the name localhost. */
function ownHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export function isOwnHost(req: IncomingMessage, port: number): boolean {
  return ownHosts(port).includes((req.headers.host ?? "").toLowerCase());
}

/** Whether the request carries an Origin, and it is the sandbox's own page. */
export function hasOwnOrigin(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin?.toLowerCase();
  return origin !== undefined && ownHosts(port).some((host) => origin === `http://${host}`);
}

/**
 * No Origin, or the sandbox's own. The bot's discord.js client (REST and gateway) sends none; a browser sends
 * one with every cross-origin request and every WebSocket handshake.
 */
export function originAllowed(req: IncomingMessage, port: number): boolean {
  return req.headers.origin === undefined || hasOwnOrigin(req, port);
}

/** Whether the body is declared as JSON (`application/json`, with or without parameters). */
export function isJson(req: IncomingMessage): boolean {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/json";
}
