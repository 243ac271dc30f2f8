// Results that finished after their interaction's 15 minutes where the bot may not post (a member's own install
// used where the bot is not): kept, marked, and told to their member the next time they use the bot.
import type { Repos } from "../../db/repos.ts";
import type { LateResult } from "../../db/repositories/late-deliveries-repo.ts";
import type { Clock } from "../../kit/clock.ts";

export type { LateResult };

export class LateResults {
  constructor(private readonly deps: { repos: Pick<Repos, "lateDeliveries">; clock: Clock }) {}

  /** The result is stored and counts as delivered: later, to its member through /reference, not posted. */
  mark(kind: LateResult["kind"], id: string): Promise<void> {
    return this.deps.repos.lateDeliveries.mark(kind, id, this.deps.clock.now());
  }

  /**
   * The member's results finished late that they have not been told of yet, marked told as they are read: a
   * second use at the same moment finds none. A note that could not be sent hands them back (`release`).
   */
  claimUntold(userId: string): Promise<{ results: LateResult[]; release: () => Promise<void> }> {
    const at = this.deps.clock.now();
    const repo = this.deps.repos.lateDeliveries;
    return repo.claimUntold(userId, at).then((results) => ({
      results,
      release: () => repo.release(results, at),
    }));
  }

  /** Which of these generations were delivered later (their images are marked so in /reference list). */
  lateGenerations(generationIds: readonly string[]): Promise<Set<string>> {
    return this.deps.repos.lateDeliveries.lateGenerations(generationIds);
  }
}
