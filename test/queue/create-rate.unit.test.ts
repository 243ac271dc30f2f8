// Replicate's create limit as BullMQ's fixed windows: no rolling minute may hold more starts than the limit, even
// when the windows' shares start in bursts as close together as they can come (a backlog waiting for each).
import { describe, expect, it } from "vitest";
import { createRateWindows, sustainedPerSecond } from "../../src/queue/create-rate.ts";

/**
 * The most starts in any rolling minute when the first window's `max` start at its last moment and every later
 * window's at its first (the closest bursts can come), for 10 minutes.
 */
function worstRollingMinute(perMinute: number): number {
  const { max, duration } = createRateWindows(perMinute);
  const starts: number[] = [];
  for (let at = 0; at < 600_000; at += duration) {
    for (let i = 0; i < max; i++) starts.push(at === 0 ? duration - 1 : at);
  }
  let worst = 0;
  let head = 0;
  for (let i = 0; i < starts.length; i++) {
    while ((starts[head] as number) <= (starts[i] as number) - 60_000) head++;
    worst = Math.max(worst, i - head + 1);
  }
  return worst;
}

describe("createRateWindows", () => {
  it("keeps every rolling minute within the limit, bursts at each window's start included", () => {
    for (const perMinute of [2, 3, 7, 10, 31, 60, 100, 599, 600, 601, 3000, 100_000]) {
      expect(worstRollingMinute(perMinute), `${perMinute} a minute`).toBeLessThanOrEqual(perMinute);
    }
  });

  it("runs Replicate's 600 a minute as 19 every 2 s: 570 a minute sustained", () => {
    expect(createRateWindows(600)).toEqual({ max: 19, duration: 2000 });
    expect(sustainedPerSecond(600)).toBe(9.5);
    expect(worstRollingMinute(600)).toBe(589);
  });
});
