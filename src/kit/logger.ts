// pino logger: JSON lines by default, pino-pretty on a terminal; secrets never reach the output.
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

const SECRET_KEYS = [
  "token",
  "authorization",
  "Authorization",
  "interaction_token",
  "interactionToken",
  "auth",
];
const CENSOR = "[Redacted]";

/** Key paths redacted structurally, at the top level and up to three objects deep. */
const redactPaths = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Builds the last line of defence: whatever a message, an error text or a URL carries, the known secret
 * values and anything after "Bearer " or "Bot " are replaced in the serialized line before it is written.
 */
export function createScrubber(secrets: readonly string[]): (line: string) => string {
  const values = secrets.filter((s) => s.length >= 6).map(escapeRegExp);
  const pattern = new RegExp(
    [
      ...values,
      String.raw`(?<=\b(?:Bearer|Bot) )[A-Za-z0-9._~+/=-]{6,}`,
      // Interaction tokens travel in webhook and callback URLs; each is a credential for 15 minutes.
      String.raw`(?<=/(?:webhooks|interactions)/\d{15,22}/)[A-Za-z0-9._~-]{20,}`,
    ].join("|"),
    "g",
  );
  return (line) => line.replace(pattern, CENSOR);
}

/** Errors without what a REST error carries along: the request body (uploads, tokens) has no place in a log. */
function serializeError(err: unknown) {
  const serialized = pino.stdSerializers.err(err as Error) as Record<string, unknown>;
  delete serialized.requestBody;
  return serialized;
}

export interface LoggerOptions {
  level: string;
  /** Secret values (tokens) to scrub from every line wherever they appear. */
  secrets?: readonly string[];
  /** Pretty output for people; defaults to whether stdout is a terminal. */
  pretty?: boolean;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const scrub = createScrubber(options.secrets ?? []);
  const pretty = options.pretty ?? (process.stdout.isTTY === true && !options.destination);
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: redactPaths, censor: CENSOR },
    hooks: { streamWrite: scrub },
    serializers: { err: serializeError },
  };
  if (pretty) {
    return pino({ ...pinoOptions, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}
