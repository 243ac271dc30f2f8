// A TCP proxy in front of PostgreSQL, for tests of the database going away: `stop` closes it and destroys every
// connection, as a stopped server would; `resume` listens again on the same port, as the server coming back.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface PostgresProxy {
  port: number;
  stop(): Promise<void>;
  resume(): Promise<void>;
}

export async function postgresProxy(target: URL): Promise<PostgresProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the proxy has no port");
  const port = address.port;
  let listening = true;
  return {
    port,
    async stop() {
      if (!listening) return;
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async resume() {
      if (listening) return;
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      listening = true;
    },
  };
}
