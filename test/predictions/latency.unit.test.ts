import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/kit/clock.ts";
import { Limiter } from "../../src/kit/limiter.ts";
import { awaitOutput } from "../../src/predictions/await-prediction.ts";
import { PredictionJobRunner } from "../../src/predictions/job-runner.ts";
import { FAST_POLL_MS, LatencyEstimate, pollPlan } from "../../src/predictions/latency.ts";
import { runningTime } from "../../src/providers/replicate/status-checks.ts";
import type { PredictionProvider } from "../../src/providers/types.ts";

const usual = (expectedMs: number, spreadMs: number) => ({ expectedMs, spreadMs });

describe("adaptive polling", () => {
  it("before it has learnt how long predictions take, checks fast at first and backs off to the interval", () => {
    // A fresh install: the first result is seen within a sixteenth of its running time, not up to a second late.
    expect(pollPlan(0, undefined, 1000)).toEqual({ delayMs: FAST_POLL_MS, onTick: true });
    expect(pollPlan(400, new LatencyEstimate(), 1000)).toEqual({ delayMs: FAST_POLL_MS, onTick: true });
    expect(pollPlan(1200, undefined, 1000)).toEqual({ delayMs: 75, onTick: false });
    expect(pollPlan(8000, undefined, 1000).delayMs).toBe(500);
    expect(pollPlan(16_000, undefined, 1000).delayMs).toBe(1000);
    expect(pollPlan(60_000, undefined, 1000).delayMs).toBe(1000);
    // A configured interval shorter than the fast one keeps its own time.
    expect(pollPlan(5000, undefined, 20)).toEqual({ delayMs: 20, onTick: false });
  });

  it("waits until a result may be due, checks every 25 ms while it is, then backs off as it runs late", () => {
    // Usually 1500 ms, straying by 75: due from 1500 − 2·75 − 25 = 1325 ms, fast until 1500 + 4·75 = 1800 ms.
    const estimate = usual(1500, 75);
    expect(pollPlan(0, estimate, 1000).delayMs).toBe(1000);
    expect(pollPlan(1000, estimate, 1000).delayMs).toBe(325);
    expect(pollPlan(1310, estimate, 1000)).toEqual({ delayMs: FAST_POLL_MS, onTick: false, notDue: true });
    // Due: on the shared tick, so checks due together leave together.
    expect(pollPlan(1325, estimate, 1000)).toEqual({ delayMs: FAST_POLL_MS, onTick: true });
    expect(pollPlan(1800, estimate, 1000)).toEqual({ delayMs: FAST_POLL_MS, onTick: true });
    // Late: a quarter of how late, within [25 ms, the interval] (awaitOutput then joins the next tick).
    expect(pollPlan(2000, estimate, 1000)).toEqual({ delayMs: 50, onTick: false });
    expect(pollPlan(3000, estimate, 1000).delayMs).toBe(300);
    expect(pollPlan(9000, estimate, 1000).delayMs).toBe(1000);
    // A spread under the fast interval counts as the fast interval; never faster than the configured one,
    // and a configured interval under 25 ms keeps its own time.
    expect(pollPlan(1000, usual(1500, 0), 1000).delayMs).toBe(425);
    expect(pollPlan(1340, usual(1500, 75), 20)).toEqual({ delayMs: 20, onTick: false });
  });

  it("asks about a prediction first when it may be due, and about one created long ago at once", async () => {
    // A provider that answers "running" until the prediction's time has passed, and records when it was asked.
    const provider = (readyAt: number, asked: number[]) =>
      ({
        get: async () => {
          asked.push(Date.now());
          return Date.now() >= readyAt ? { status: "succeeded", output: "out" } : { status: "running" };
        },
        cancel: async () => {},
      }) as unknown as PredictionProvider<unknown>;
    const latency = new LatencyEstimate();
    for (let i = 0; i < 5; i++) latency.observe(400);
    const wait = { pollMs: 1000, clock: systemClock, signal: new AbortController().signal, latency };
    const fresh: number[] = [];
    const created = Date.now();
    await awaitOutput(provider(created + 400, fresh), "p1", { ...wait, deadline: created + 10_000 });
    // Due from 400 − 2·25 − 25 = 325 ms: nothing is asked before then.
    expect((fresh[0] as number) - created).toBeGreaterThanOrEqual(300);
    expect(fresh.length).toBeLessThanOrEqual(6);
    const resumed: number[] = [];
    const now = Date.now();
    await awaitOutput(provider(now - 59_000, resumed), "p2", {
      ...wait,
      startedAt: now - 60_000,
      deadline: now + 10_000,
    });
    expect(resumed).toHaveLength(1);
    expect((resumed[0] as number) - now).toBeLessThan(100);
  });

  it("learns a moving average of running times and how far they stray", () => {
    const estimate = new LatencyEstimate(0.5);
    expect(estimate.expectedMs).toBeUndefined();
    estimate.observe(1000);
    expect(estimate.expectedMs).toBe(1000);
    estimate.observe(2000);
    expect(estimate.expectedMs).toBe(1500);
    expect(estimate.spreadMs).toBe(525); // 50 from the first, then halfway to |2000 − 1000|
    estimate.observe(-5);
    estimate.observe(Number.NaN);
    expect(estimate.expectedMs).toBe(1500);
  });

  it("starts from recorded history once it is read, and from nothing when the read fails", async () => {
    const seeded = new LatencyEstimate(0.5);
    seeded.seed(Promise.resolve([1000, 2000]));
    expect(seeded.expectedMs).toBeUndefined();
    await seeded.ready;
    expect(seeded.expectedMs).toBe(1500);

    const failed = new LatencyEstimate();
    failed.seed(Promise.reject(new Error("database away")));
    await failed.ready;
    expect(failed.expectedMs).toBeUndefined();
  });

  it("reads a prediction's own running time from Replicate's answer", () => {
    expect(
      runningTime({ created_at: "2026-01-01T00:00:00.000Z", completed_at: "2026-01-01T00:00:01.250Z" }),
    ).toBe(1250);
    expect(runningTime({ created_at: "2026-01-01T00:00:00.000Z", metrics: { predict_time: 0.8 } })).toBe(800);
    expect(runningTime({ created_at: "2026-01-01T00:00:00.000Z" })).toBeUndefined();
    expect(runningTime({ completed_at: "nonsense", metrics: { predict_time: -1 } })).toBeUndefined();
  });

  it("a runner reads each model's history once, when a job of that model first needs it", async () => {
    const asked: string[] = [];
    const runner = new PredictionJobRunner({
      limiter: new Limiter(1),
      clock: systemClock,
      pollMs: 1000,
      history: async (model) => {
        asked.push(model);
        return model === "google/imagen-4" ? [400, 600] : [];
      },
    });
    runner.warm("google/imagen-4");
    runner.warm("google/imagen-4");
    expect(await runner.estimate("google/imagen-4")).toMatchObject({ expectedMs: 440 });
    expect((await runner.estimate("google/nano-banana-2")).expectedMs).toBeUndefined();
    expect(asked).toEqual(["google/imagen-4", "google/nano-banana-2"]);
  });
});
