import { describe, expect, it } from "vitest";
import { LatencyEstimate, nextPollDelay } from "../../src/services/latency.ts";

describe("adaptive polling", () => {
  it("polls at the normal interval until it has learnt how long predictions take", () => {
    expect(nextPollDelay(0, undefined, 1000)).toBe(1000);
    expect(nextPollDelay(5000, undefined, 1000)).toBe(1000);
  });

  it("waits until a result is nearly due, then checks every tenth of the interval, then slows down again", () => {
    // Usually 1500 ms: due from 1275 ms.
    expect(nextPollDelay(0, 1500, 1000)).toBe(1000);
    expect(nextPollDelay(1000, 1500, 1000)).toBe(275);
    expect(nextPollDelay(1200, 1500, 1000)).toBe(100);
    expect(nextPollDelay(1300, 1500, 1000)).toBe(100);
    expect(nextPollDelay(3700, 1500, 1000)).toBe(100);
    expect(nextPollDelay(3800, 1500, 1000)).toBe(1000);
    // Never faster than 50 ms, never slower than the interval.
    expect(nextPollDelay(1300, 1500, 200)).toBe(50);
    expect(nextPollDelay(1300, 1500, 20)).toBe(20);
  });

  it("learns a moving average of observed running times", () => {
    const estimate = new LatencyEstimate(0.5);
    expect(estimate.expectedMs).toBeUndefined();
    estimate.observe(1000);
    expect(estimate.expectedMs).toBe(1000);
    estimate.observe(2000);
    expect(estimate.expectedMs).toBe(1500);
    estimate.observe(-5);
    estimate.observe(Number.NaN);
    expect(estimate.expectedMs).toBe(1500);
  });
});
