// A local HTTP server in front of another (s3rver, in the tests): requests it does not answer itself are passed
// through unchanged, so a test can watch, hold or fail what a client sends.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Sends a request on to `upstream` as it came, and its answer back. */
export function forwardTo(upstream: string): Handler {
  const target = new URL(upstream);
  return (req, res) => {
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(up);
  };
}

/** Serves `handler` on a free port of 127.0.0.1. */
export async function startLocalServer(handler: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
