// Runs whose grid is out while their last images are stored, by member: a new request of theirs waits for them,
// so the grid on screen never counts as a request still running.
import { within } from "../../kit/clock.ts";

/**
 * How long a member's next request, or a press on a grid, waits for a run's last image to be recorded: storage
 * in trouble then lets it go on and see the run as it stands.
 */
export const STORED_WAIT_MS = 10_000;

export class SettlingRuns {
  /** Each member's runs whose grid went out, until they settle. */
  private readonly byMember = new Map<string, Set<Promise<void>>>();

  /** Registers a run of `userId` whose grid is out while its last images are stored; returns its release. */
  hold(userId: string): () => void {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs = this.byMember.get(userId) ?? new Set();
    runs.add(held);
    this.byMember.set(userId, runs);
    return () => {
      release();
      runs.delete(held);
      if (runs.size === 0 && this.byMember.get(userId) === runs) this.byMember.delete(userId);
    };
  }

  /**
   * Resolves once this member's runs in this process whose grid is already out have recorded their last images
   * and settled (a moment, the time of a put), or after STORED_WAIT_MS (the admission then sees them running);
   * undefined when there are none.
   */
  settling(userId: string): Promise<void> | undefined {
    const runs = this.byMember.get(userId);
    return runs && within(Promise.all(runs), STORED_WAIT_MS);
  }
}
