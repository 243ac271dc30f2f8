// Discord-style snowflake ids for the local server: time-ordered, unique within the process.
const DISCORD_EPOCH = 1420070400000n;
let increment = 0n;

export function snowflake(now = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(now) - DISCORD_EPOCH) << 22n) | increment).toString();
}
