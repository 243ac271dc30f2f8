// How a reply's progress edits are paced: images go up at once within the burst budget, everything else at
// the interval, and never more than EDIT_BURST edits start in any EDIT_BURST_WINDOW_MS, whatever asked for them.
import { describe, expect, it } from "vitest";
import { EDIT_BURST, EDIT_BURST_WINDOW_MS, ThrottledEdits } from "../../../src/discord/replies/pacing.ts";
import type { Clock, Timer } from "../../../src/kit/clock.ts";

/** A clock whose time moves only when told, running the timers that fall due on the way. */
function manualClock() {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { at: number; run: () => void }>();
  const clock: Clock & { advanceTo(t: number): Promise<void> } = {
    now: () => now,
    setTimeout(run, ms) {
      const id = next++;
      timers.set(id, { at: now + ms, run });
      return id as unknown as Timer;
    },
    clearTimeout(timer) {
      timers.delete(timer as unknown as number);
    },
    async advanceTo(t) {
      for (;;) {
        const due = [...timers.entries()].filter(([, x]) => x.at <= t).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].run();
        // Let the edit chain run what the timer queued.
        for (let i = 0; i < 10; i++) await Promise.resolve();
      }
      now = t;
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
  return clock;
}

function edits(intervalMs = 1000) {
  const clock = manualClock();
  const sent: Array<{ at: number; value: string }> = [];
  const paced = new ThrottledEdits<string>(
    async (value) => {
      sent.push({ at: clock.now(), value });
    },
    intervalMs,
    clock,
    (err) => {
      throw err;
    },
  );
  return { clock, sent, paced };
}

/** The most edits that started within any window of EDIT_BURST_WINDOW_MS. */
const busiestWindow = (starts: number[]) =>
  Math.max(0, ...starts.map((t) => starts.filter((u) => u >= t && u < t + EDIT_BURST_WINDOW_MS).length));

describe("progress edits", () => {
  it("send each landed image at once, up to the burst, then wait for the window whatever asks", async () => {
    const { clock, sent, paced } = edits();
    for (const [at, value] of [
      [50, "image 1"],
      [100, "image 2"],
      [200, "image 3"],
    ] as const) {
      await clock.advanceTo(at);
      paced.schedule(value, true);
      await clock.advanceTo(at);
    }
    expect(sent).toEqual([
      { at: 50, value: "image 1" },
      { at: 100, value: "image 2" },
      { at: 200, value: "image 3" },
    ]);
    // A text-only change (a failed slot) and a fourth image both wait until the first edit leaves the window.
    await clock.advanceTo(300);
    paced.schedule("slot 4 failed");
    await clock.advanceTo(400);
    paced.schedule("image 4", true);
    await clock.advanceTo(5000);
    expect(sent.slice(3)).toEqual([{ at: 50 + EDIT_BURST_WINDOW_MS, value: "image 4" }]);
    expect(busiestWindow(sent.map((e) => e.at))).toBeLessThanOrEqual(EDIT_BURST);
  });

  it("keep text-only changes at the interval, and send nothing after settle", async () => {
    const { clock, sent, paced } = edits(1000);
    paced.schedule("queued 3 ahead");
    await clock.advanceTo(0);
    await clock.advanceTo(10);
    paced.schedule("queued 2 ahead");
    await clock.advanceTo(500);
    paced.schedule("queued 1 ahead");
    await clock.advanceTo(1500);
    expect(sent).toEqual([
      { at: 0, value: "queued 3 ahead" },
      { at: 1000, value: "queued 1 ahead" },
    ]);
    paced.schedule("image 1");
    expect(await paced.settle()).toBe(false);
    paced.schedule("image 2", true);
    await clock.advanceTo(5000);
    expect(sent).toHaveLength(2);
  });
});
