// The fleet queue's pace, learnt from successive reads of its wait list, and the expected wait shown with a place.
import { describe, expect, it } from "vitest";
import { queuedLine } from "../../src/discord/views/message.ts";
import { DrainRate } from "../../src/queue/drain-rate.ts";

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `image-${from + i}`);

describe("DrainRate", () => {
  it("stands in the ceiling (the create rate) until ten seconds of reads were seen", () => {
    const rate = new DrainRate(10);
    rate.observe(ids(0, 100), 0);
    rate.observe(ids(50, 120), 5_000);
    expect(rate.perSecond()).toBe(10);
    expect(rate.waitMs(30)).toBe(3_000);
  });

  it("counts the jobs gone from one read to the next, new arrivals aside, over the last minute", () => {
    const rate = new DrainRate(100);
    // 2 jobs a second leave the head while 5 a second join the tail.
    for (let t = 0; t <= 30; t++) rate.observe(ids(2 * t, 1000 + 5 * t), t * 1000);
    expect(rate.perSecond()).toBeCloseTo(2, 5);
    expect(rate.waitMs(40)).toBe(20_000);
  });

  it("never says faster than the ceiling, even after a burst", () => {
    const rate = new DrainRate(10);
    for (let t = 0; t <= 20; t++) rate.observe(ids(20 * t, 2000), t * 1000);
    expect(rate.perSecond()).toBe(10);
  });

  it("forgets what is older than a minute, and a pause nobody watched", () => {
    const rate = new DrainRate(100);
    for (let t = 0; t <= 60; t++) rate.observe(ids(10 * t, 5000), t * 1000);
    for (let t = 61; t <= 130; t++) rate.observe(ids(600 + (t - 60), 5000), t * 1000);
    expect(rate.perSecond()).toBeCloseTo(1, 5);
    rate.observe(ids(0, 10), 500_000);
    expect(rate.perSecond()).toBe(100);
  });

  it("ignores a read that answered after a newer one", () => {
    const rate = new DrainRate(100);
    for (let t = 0; t <= 20; t++) rate.observe(ids(t, 500), t * 1000);
    rate.observe(ids(0, 500), 15_000);
    expect(rate.perSecond()).toBeCloseTo(1, 5);
  });
});

describe("queuedLine", () => {
  it("shows the place alone without an expected wait, seconds under two minutes, minutes above", () => {
    expect(queuedLine(3)).toBe("Queued: 3 ahead of you.");
    expect(queuedLine(3, Number.POSITIVE_INFINITY)).toBe("Queued: 3 ahead of you.");
    expect(queuedLine(12, 40_400)).toBe("Queued: 12 ahead of you, about 40 s to start.");
    expect(queuedLine(1, 200)).toBe("Queued: 1 ahead of you, about 1 s to start.");
    expect(queuedLine(900, 330_000)).toBe("Queued: 900 ahead of you, about 6 min to start.");
  });
});
