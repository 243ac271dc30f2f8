// `npm run sandbox`: the whole bot offline in a browser, with no Discord application and no Replicate account.

import { defaultSandboxDataDir, type RunningSandbox, startSandboxMode } from "./app/sandbox-mode.ts";
import { EXIT_CONFIG, readEnvironment, storageProblem } from "./app/startup.ts";
import { ConfigError } from "./config/load.ts";
import { StorageUnavailableError } from "./kit/errors.ts";

const env = readEnvironment();
const port = Number(env.SANDBOX_PORT || 3210);
const httpPort = Number(env.SANDBOX_HTTP_PORT || 0);
const useReplicate = (env.SANDBOX_PROVIDER || "mock") === "replicate";
const shards = Number(env.SANDBOX_SHARDS || 1);

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`SANDBOX_PORT must be a port number (0–65535), not "${env.SANDBOX_PORT}".`);
  process.exit(EXIT_CONFIG);
}
if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) {
  console.error(`SANDBOX_HTTP_PORT must be a port number (0–65535), not "${env.SANDBOX_HTTP_PORT}".`);
  process.exit(EXIT_CONFIG);
}
if (!Number.isInteger(shards) || shards < 1 || shards > 16) {
  console.error(
    `SANDBOX_SHARDS must be a number of gateway shards from 1 to 16, not "${env.SANDBOX_SHARDS}".`,
  );
  process.exit(EXIT_CONFIG);
}
if (useReplicate && !env.REPLICATE_API_TOKEN) {
  console.error(
    "SANDBOX_PROVIDER=replicate needs REPLICATE_API_TOKEN (see .env.example). Without it the sandbox uses the free mock.",
  );
  process.exit(EXIT_CONFIG);
}

try {
  const running = await startSandboxMode({
    env,
    port,
    dataDir: env.SANDBOX_DATA_DIR || defaultSandboxDataDir(),
    useReplicate,
    httpPort,
    shards,
  });
  console.log(
    `Sandbox running at ${running.url} (${useReplicate ? "real Replicate images" : "mock images, free and offline"}; ${shards > 1 ? `${shards} gateway shards, a guild on each; ` : ""}data in ${running.config.dataDir}; health and metrics at ${running.httpUrl}/readyz and ${running.httpUrl}/metrics). Ctrl-C stops it.`,
  );
  stopOnSignals(running);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(EXIT_CONFIG);
  }
  if (err instanceof StorageUnavailableError) {
    // DATABASE_URL unreachable (or STORAGE_URL): the same one message and exit code 2 as npm start.
    console.error(storageProblem(err));
    process.exit(EXIT_CONFIG);
  }
  if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
    const busy = (err as { port?: number }).port ?? port;
    const variable = busy === port ? "SANDBOX_PORT" : "SANDBOX_HTTP_PORT";
    console.error(`Port ${busy} is in use. Set ${variable} to another port (or 0 for any free one).`);
    process.exit(EXIT_CONFIG);
  }
  throw err;
}

/** Ctrl-C or SIGTERM stops the sandbox; a second signal while it stops changes nothing. */
function stopOnSignals(running: RunningSandbox): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
