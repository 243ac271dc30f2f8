// Servers the bot is removed from and added back to: a removal (not an outage) schedules the server's data for
// deletion after GUILD_DATA_GRACE_DAYS, and being in the server again (added back, or seen at connect) cancels it.
import { type Client, Events, type Guild } from "discord.js";
import type { AppContext } from "../../features/context.ts";

/** How long servers heard of are gathered before they are recorded in one write. */
const PRESENT_BATCH_MS = 200;

export function watchGuildMembership(ctx: AppContext, client: Client): void {
  const { logger, retention } = ctx;
  // A process connecting to thousands of servers hears one event each: they are recorded together, a batch
  // every PRESENT_BATCH_MS, instead of one write each (which would hold every pooled connection at connect).
  // Writes go one after another in the order their events came, so a server's removal is never overtaken by
  // a batch that still counted it present.
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let writes: Promise<void> = Promise.resolve();
  const inOrder = (write: () => Promise<void>, what: string, fields: object) => {
    writes = writes.then(write).catch((err: unknown) => logger.warn({ err, ...fields }, what));
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const ids = [...pending];
    pending.clear();
    if (ids.length > 0) {
      inOrder(() => retention.guildsPresent(ids), "could not record being in servers", {
        guilds: ids.length,
      });
    }
  };
  client.on(Events.GuildDelete, (guild: Guild) => {
    // discord.js reports an outage as guildUnavailable; a guild marked unavailable is never a removal.
    if (guild.available === false) return;
    pending.delete(guild.id);
    flush();
    inOrder(() => retention.guildLeft(guild.id), "could not record leaving a server", { guildId: guild.id });
  });
  const present = (guild: Guild) => {
    pending.add(guild.id);
    timer ??= setTimeout(flush, PRESENT_BATCH_MS);
  };
  client.on(Events.GuildCreate, present);
  client.on(Events.GuildAvailable, present);
}

/**
 * At connect: every server in the READY list is one the bot is in, so a removal made while this process was
 * away and undone before it came back is cancelled too.
 */
export async function guildsAtConnect(ctx: AppContext, client: Client<true>): Promise<void> {
  try {
    await ctx.retention.guildsPresent([...client.guilds.cache.keys()]);
  } catch (err) {
    ctx.logger.warn({ err }, "could not record the servers the bot is in");
  }
}
