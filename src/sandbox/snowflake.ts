// Discord-style snowflake ids for the local server: time-ordered, unique within the process.
const DISCORD_EPOCH = 1420070400000n;
let increment = 0n;

export function snowflake(now = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(now) - DISCORD_EPOCH) << 22n) | increment).toString();
}

/** The shard whose connection gets a guild's events, as Discord computes it: `(guild_id >> 22) % count`. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/**
 * A snowflake that lands on `shard` of `shardCount`: the shard is chosen by the timestamp bits, so the time is
 * moved back by less than `shardCount` milliseconds until it does.
 */
export function snowflakeOnShard(shard: number, shardCount: number, now = Date.now()): string {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError("shardCount must be at least 1");
  if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount)
    throw new RangeError(`shard must be from 0 to ${shardCount - 1}`);
  const count = BigInt(shardCount);
  const elapsed = BigInt(now) - DISCORD_EPOCH;
  const back = ((((elapsed % count) - BigInt(shard)) % count) + count) % count;
  return snowflake(Number(elapsed - back + DISCORD_EPOCH));
}
