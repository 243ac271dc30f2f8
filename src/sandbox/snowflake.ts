// Discord-style snowflake ids for the local server: time-ordered, and unique among those one source makes.
import { randomInt } from "node:crypto";

const DISCORD_EPOCH = 1420070400000n;
/** The bits under the timestamp (Discord's worker, process and increment fields), counted per source. */
const SEQUENCE_BITS = 22n;
const SEQUENCE_MASK = (1n << SEQUENCE_BITS) - 1n;

/**
 * Makes ids for one server: each new id counts up the bits under the timestamp, so ids of one millisecond
 * still differ and sort in the order they were made. Each server owns its source, so servers in one process
 * share no counter.
 */
export class SnowflakeSource {
  /** `sequence`: where the count under the timestamp starts (0 for a server's own source). */
  constructor(private sequence = 0n) {}

  next(now = Date.now()): string {
    this.sequence = (this.sequence + 1n) & SEQUENCE_MASK;
    return (((BigInt(now) - DISCORD_EPOCH) << SEQUENCE_BITS) | this.sequence).toString();
  }

  /**
   * An id that lands on `shard` of `shardCount`: the shard is chosen by the timestamp bits, so the time is
   * moved back by less than `shardCount` milliseconds until it does.
   */
  onShard(shard: number, shardCount: number, now = Date.now()): string {
    if (!Number.isInteger(shardCount) || shardCount < 1)
      throw new RangeError("shardCount must be at least 1");
    if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount)
      throw new RangeError(`shard must be from 0 to ${shardCount - 1}`);
    const count = BigInt(shardCount);
    const elapsed = BigInt(now) - DISCORD_EPOCH;
    const back = ((((elapsed % count) - BigInt(shard)) % count) + count) % count;
    return this.next(Number(elapsed - back + DISCORD_EPOCH));
  }
}

/**
 * A source for ids made before any server exists (a test's guilds): it starts its count at a random point, as
 * ids from another Discord worker carry other low bits, so two such sources agree on an id only by a chance
 * of about one in four million per millisecond.
 */
export function detachedSnowflakes(): SnowflakeSource {
  return new SnowflakeSource(BigInt(randomInt(Number(SEQUENCE_MASK) + 1)));
}

/** The shard whose connection gets a guild's events, as Discord computes it: `(guild_id >> 22) % count`. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** One id on `shard` of `shardCount`, made outside any server (see detachedSnowflakes). */
export function snowflakeOnShard(shard: number, shardCount: number, now = Date.now()): string {
  return detachedSnowflakes().onShard(shard, shardCount, now);
}
