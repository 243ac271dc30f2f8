// Runs the real bot (discord.js client, its storage in a temp dir or on the run's PostgreSQL + S3, real
// providers) against the local Discord-compatible server, as a person in a guild would meet it.
import { InteractionResponseType } from "discord-api-types/v10";
import { afterAll, afterEach, expect } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import { type RunningBot, startBot } from "../../src/app/gateway.ts";
import { startHttpFrontEnd } from "../../src/app/http-front-end.ts";
import { startOperationsServer } from "../../src/app/operations-server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { deployCommands } from "../../src/discord/commands/register.ts";
import { parseCustomId } from "../../src/discord/kit/custom-id.ts";
import type { AppContext } from "../../src/features/context.ts";
import type { GenerationView } from "../../src/features/generation/generation-view.ts";
import {
  DiscordSandbox,
  MEMBER_PERMISSIONS,
  MODERATOR_PERMISSIONS,
  type SandboxInteraction,
  type SandboxUser,
  type StoredMessage,
} from "../../src/sandbox/server.ts";
import { captureLogger, engineEnv, makeTempDir, steppingClock, type TempDir } from "./env.ts";

export const BOT_TOKEN = "sandbox-bot-token.0123456789";
export const ALICE: SandboxUser = { id: "500000000000000001", username: "alice" };
export const BOB: SandboxUser = { id: "500000000000000002", username: "bob" };
export const MOD: SandboxUser = { id: "500000000000000003", username: "mod" };
export { MEMBER_PERMISSIONS, MODERATOR_PERMISSIONS };

export interface Harness {
  sandbox: DiscordSandbox;
  /** The bot's clock: the system's, which a test can move forward (the sandbox keeps real time). */
  clock: ReturnType<typeof steppingClock>;
  ctx: AppContext;
  bot: RunningBot;
  dir: TempDir;
  logLines: string[];
  /** Stops the bot as SIGTERM would and starts a new one on the same data directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
  /** Waits until the interaction's reply has no "thinking" flag and `check` passes. */
  settledReply(
    interaction: SandboxInteraction,
    check?: (m: StoredMessage) => boolean,
  ): Promise<StoredMessage>;
  followUp(interaction: SandboxInteraction): Promise<StoredMessage>;
  /**
   * Waits for the refusal of a request the bot acknowledged before looking anything up (/character, /video,
   * Regenerate, a pick): the refusal comes as an ephemeral follow-up, and a public "thinking…" deferral is
   * withdrawn before it and deleted after it, so the channel keeps nothing of the refused request.
   */
  refusal(interaction: SandboxInteraction): Promise<StoredMessage>;
  /** Waits for a generation reply to be final (it has its Regenerate button) and its generation delivered. */
  grid(interaction: SandboxInteraction): Promise<StoredMessage>;
  /**
   * Waits until the bot is done with a generation: its final message confirmed and recorded as delivered (a
   * grid goes out while its last image is being stored, so it shows a moment before that).
   */
  delivered(generationId: string): Promise<void>;
  /** Runs /character as `user` (default Alice) in the guild and waits for the finished grid. */
  character(options: CharacterOptions, user?: SandboxUser): Promise<StoredMessage>;
  /** The generation a grid shows, read through the service (its id is in the grid's buttons). */
  generationOf(grid: StoredMessage): Promise<GenerationView>;
  /**
   * How many rows a table holds. Only for asserting that a refused request recorded nothing at all: no
   * repository lists every row of a table, by design.
   */
  recordedRows(table: "generations" | "images" | "videos" | "selections"): Promise<number>;
  /** Whether the bot's storage (files under DATA_DIR, or the bucket) holds a stored image or video file. */
  fileStored(fileName: string): Promise<boolean>;
  /** Presses pick button `slot` (1–4) on a grid as `user` and waits for the private confirmation. */
  pick(grid: StoredMessage, slot: number, user?: SandboxUser): Promise<StoredMessage>;
}

export interface CharacterOptions {
  description: string;
  count?: number;
  aspect_ratio?: string;
}

interface Running {
  ctx: AppContext;
  bot?: RunningBot;
  stop(): Promise<void>;
}

/**
 * INTERACTIONS_MODE=http (the harness's env also sets DISCORD_PUBLIC_KEY to the sandbox's): the public listener
 * on a free port takes POST /interactions, and the sandbox delivers interactions there, signed, not over a gateway.
 */
async function bootHttp(ctx: AppContext, sandbox: DiscordSandbox): Promise<Running> {
  const http = await startOperationsServer(ctx);
  const frontEnd = await startHttpFrontEnd(ctx);
  http.takeInteractions(frontEnd.receiver);
  http.started();
  sandbox.http.url = `${http.publicUrl}/interactions`;
  return {
    ctx,
    stop: async () => {
      http.beginStop();
      await frontEnd.stop(() => http.close());
    },
  };
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
  const dir = makeTempDir("crbot-e2e-");
  const config = loadConfig({
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_API_URL: sandbox.apiUrl,
    ...engineEnv(dir.path),
    DATA_DIR: dir.path,
    IMAGE_PROVIDER: "mock",
    MOCK_LATENCY_MS: "150",
    PREDICTION_POLL_MS: "20",
    LOG_LEVEL: "debug",
    ...(env.INTERACTIONS_MODE === "http" ? { DISCORD_PUBLIC_KEY: sandbox.http.publicKey } : {}),
    ...env,
  });
  await deployCommands({ token: BOT_TOKEN, apiUrl: sandbox.apiUrl, guildId: sandbox.guild.id });
  const log = captureLogger([BOT_TOKEN]);
  const clock = steppingClock();
  const boot = async (): Promise<Running> => {
    const ctx = await createAppContext(config, log.logger, { clock });
    if (config.discord.interactionsMode === "http") return bootHttp(ctx, sandbox);
    const bot = await startBot(ctx);
    return { ctx, bot, stop: () => bot.stop() };
  };
  let running = await boot();

  const harness: Harness = {
    sandbox,
    clock,
    dir,
    logLines: log.lines,
    get ctx() {
      return running.ctx;
    },
    get bot() {
      if (!running.bot) throw new Error("INTERACTIONS_MODE=http: the bot has no gateway client");
      return running.bot;
    },
    async restart() {
      await running.stop();
      running = await boot();
    },
    async close() {
      await running.stop();
      await sandbox.close();
      dir.remove();
    },
    settledReply(interaction, check = () => true) {
      return sandbox.waitFor(
        () => {
          const m = sandbox.original(interaction);
          return m && (m.flags & 128) === 0 && check(m) ? m : undefined;
        },
        15_000,
        "the interaction's reply",
      );
    },
    async grid(interaction) {
      const grid = await harness.settledReply(interaction, (m) =>
        buttons(m).some((b) => b.custom_id?.startsWith("gen:again:")),
      );
      await harness.delivered((await harness.generationOf(grid)).generation.id);
      return grid;
    },
    async delivered(generationId) {
      await eventually(
        async () => (await harness.ctx.generation.view(generationId))?.generation.deliveredAt != null,
        15_000,
        "the generation marked delivered",
      );
    },
    async generationOf(grid) {
      for (const b of buttons(grid)) {
        const id = parseCustomId(b.custom_id);
        if (id.handler !== "gen") continue;
        const view = await harness.ctx.generation.view(id.generationId);
        if (view) return view;
      }
      throw new Error("the message has no generation buttons");
    },
    async recordedRows(table) {
      const row = await harness.ctx.data.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async fileStored(fileName) {
      const { files } = harness.ctx;
      return (await files.objects.stat(files.keyOf(fileName))) !== undefined;
    },
    character(options, user = ALICE) {
      return harness.grid(sandbox.runCommand({ command: "character", options: { ...options }, user }));
    },
    pick(grid, slot, user = ALICE) {
      const button = buttons(grid).find((b) => b.label === String(slot));
      if (!button) throw new Error(`the grid has no button ${slot}`);
      return harness.followUp(sandbox.pressButton({ message: grid, customId: button.custom_id, user }));
    },
    followUp(interaction) {
      return sandbox.waitFor(() => sandbox.followUps(interaction)[0], 10_000, "a follow-up message");
    },
    async refusal(interaction) {
      const message = await harness.followUp(interaction);
      if (interaction.callback?.type === InteractionResponseType.DeferredChannelMessageWithSource) {
        // The deferral was made (so a reply existed), withdrawn before the private follow-up (which would
        // otherwise have become that public reply), and then deleted.
        expect(interaction.originalMessageId).toEqual(expect.any(String));
        expect(message.id).not.toBe(interaction.originalMessageId);
        await sandbox.waitFor(
          () => sandbox.original(interaction) === undefined,
          5_000,
          "the withdrawn reply's deletion",
        );
      }
      return message;
    },
  };
  return harness;
}

/**
 * Polls an asynchronous check (a read of the database, say) every 10 ms until it returns a value that is not
 * undefined or false; throws after `timeoutMs` naming what it waited for. One check runs at a time.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The labels and custom_ids of a message's buttons, row by row. */
export function buttons(
  message: StoredMessage,
): Array<{ label: string; custom_id: string; style: number; disabled?: boolean }> {
  return (
    message.components as Array<{ components: Array<{ label: string; custom_id: string; style: number }> }>
  ).flatMap((row) => row.components);
}

/**
 * Registers the checks every end-to-end test file shares: after each test, no schema violation and no bot
 * token in the logs, then the harness is closed; after the file, how many REST bodies were validated.
 */
export function e2eSuite(name: string): { start(env?: Record<string, string>): Promise<Harness> } {
  let current: Harness | undefined;
  let validated = 0;
  afterEach(async () => {
    const h = current;
    current = undefined;
    if (!h) return;
    try {
      expect(h.sandbox.violations).toEqual([]);
      expect(h.logLines.join("\n")).not.toContain(BOT_TOKEN);
      validated += h.sandbox.validatedRequests;
    } finally {
      await h.close();
    }
  });
  afterAll(() => {
    console.log(`${name} e2e: ${validated} REST bodies validated against Discord's schemas, 0 violations`);
  });
  return {
    async start(env) {
      current = await startHarness(env);
      return current;
    },
  };
}
