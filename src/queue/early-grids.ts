// What the fleet knows of a grid a slot's worker sent early (queued-slot.ts), so the generation's delivery job
// need not send it again: one key per generation, for an hour. Its values:
//   `sending`        a grid is on its way (or its worker died on the way: the delivery job then sends it);
//   `shown:<digest>` the grid reached Discord, showing what the digest names (GenerationReply's shownAs);
//   `overwritten`    a progress edit (a slot's, or the gateway's queue place) may have reached Discord after the
//                    grid and replaced it.
// Only one grid sets out early: `sending` is taken only where there is no key. A slot's progress edit is not
// sent where there is a key; it and every queue-place edit mark the key `overwritten` once answered, only where
// the key exists: an edit that reached Discord after the grid was answered after the grid set out, so its mark
// finds the key
// (until the delivery job, which runs after every slot's job has ended, forgets it). The delivery job trusts
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

  /**
   * Before the grid is sent: true when this sender is the one, and from now on every progress edit that is
   * answered marks it overwritten. False where a key stands already (another grid set out, or a progress edit
   * was marked): the delivery job sends the grid then.
   */
  async sending(generationId: string): Promise<boolean> {
    return (await this.redis.set(this.key(generationId), SENDING, "PX", TTL_MS, "NX")) === "OK";
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
