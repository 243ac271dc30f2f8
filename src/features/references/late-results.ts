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

  /** The member's results finished late that they have not been told of yet. */
  untold(userId: string): Promise<LateResult[]> {
    return this.deps.repos.lateDeliveries.untold(userId);
  }

  /** Records that the member was told of these (they are not listed again). */
  markTold(results: readonly LateResult[]): Promise<void> {
    return this.deps.repos.lateDeliveries.markTold(results, this.deps.clock.now());
  }

  /** Which of these generations were delivered later (their images are marked so in /reference list). */
  lateGenerations(generationIds: readonly string[]): Promise<Set<string>> {
    return this.deps.repos.lateDeliveries.lateGenerations(generationIds);
  }
}
