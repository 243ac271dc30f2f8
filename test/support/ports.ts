// A TCP port on 127.0.0.1 that nothing listens on right now: one the system handed out and took back (for a
// PUBLIC_URL the config needs before its server starts, or an address that refuses connections).
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}
