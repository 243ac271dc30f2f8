// What the fleet knows of a grid a slot's worker sent early (queued-slot.ts), so the generation's delivery job
// need not send it again: one key per generation, for an hour. Its values:
//   `sending`        the grid is on its way (or its worker died on the way: then it is sent again);
//   `shown:<digest>` the grid reached Discord, showing what the digest names (GenerationReply's shownAs);
//   `overwritten`    another slot's progress edit may have reached Discord after the grid and replaced it.
// A progress edit marks the key `overwritten` after it was answered, and only where the key exists: an edit
// that reached Discord after the grid had set `sending` first, so it is always seen. The delivery job trusts
// only `shown:`; a key Redis lost means the grid is sent again, never that it is thought shown.
import type { Redis } from "ioredis";

const TTL_MS = 3_600_000;
const SENDING = "sending";
const SHOWN = "shown:";

/** `sending` → `shown:<digest>`, only while the key still says `sending`. */
const MARK_SHOWN = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false`;

export class EarlyGrids {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(generationId: string): string {
    return `${this.prefix}:early-grid:${generationId}`;
  }

  /** Before the grid is sent: from now on, every progress edit that is answered marks it overwritten. */
  async sending(generationId: string): Promise<void> {
    await this.redis.set(this.key(generationId), SENDING, "PX", TTL_MS);
  }

  /** The grid reached Discord showing `shown`; kept only if no progress edit was answered since `sending`. */
  async shown(generationId: string, shown: string): Promise<void> {
    await this.redis.eval(MARK_SHOWN, 1, this.key(generationId), SENDING, SHOWN + shown, TTL_MS);
  }

  /** A progress edit of this generation was answered: a grid sent before it may have been replaced. */
  async progressEdited(generationId: string): Promise<void> {
    await this.redis.set(this.key(generationId), "overwritten", "PX", TTL_MS, "XX");
  }

  /** Whether a grid set out for this generation: a progress edit now would only replace it. */
  async setOut(generationId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(generationId))) === 1;
  }

  /** What the message shows, when an early grid reached Discord and nothing replaced it; undefined otherwise. */
  async standing(generationId: string): Promise<string | undefined> {
    const value = await this.redis.get(this.key(generationId));
    return value?.startsWith(SHOWN) ? value.slice(SHOWN.length) : undefined;
  }

  /** The delivery is recorded: the key has done its work. */
  async forget(generationId: string): Promise<void> {
    await this.redis.del(this.key(generationId));
  }
}
