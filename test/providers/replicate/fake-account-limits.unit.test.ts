// The fake Replicate's account limits, which the simulation benchmark measures the bot against: creates and
// other requests counted apart over a rolling minute, one past the limit refused with the wait until it fits.
import { describe, expect, it } from "vitest";
import { AccountLimiter, isCreate } from "../../support/fake-replicate-limits.ts";

describe("the fake Replicate's account limits", () => {
  it("refuses the request past the limit in a rolling minute, with the seconds until the oldest leaves it", () => {
    const limiter = new AccountLimiter({ createsPerMinute: 3, otherPerMinute: 2 });
    expect(limiter.refuse(true, 0)).toBeUndefined();
    expect(limiter.refuse(true, 10_000)).toBeUndefined();
    expect(limiter.refuse(true, 20_000)).toBeUndefined();
    expect(limiter.refuse(true, 30_000)).toBe("30");
    // Other requests have their own count.
    expect(limiter.refuse(false, 30_000)).toBeUndefined();
    expect(limiter.refuse(false, 30_500)).toBeUndefined();
    expect(limiter.refuse(false, 31_000)).toBe("59");
    // The first create left the minute: one more fits, a refused one was not counted.
    expect(limiter.refuse(true, 60_000)).toBeUndefined();
    expect(limiter.refuse(true, 60_001)).toBe("10");
    expect(limiter.refused).toEqual({ creates: 2, other: 1 });
  });

  it("tells creates (by model or by version) from every other request", () => {
    expect(isCreate("POST", "/v1/models/google/nano-banana/predictions")).toBe(true);
    expect(isCreate("POST", "/v1/predictions")).toBe(true);
    expect(isCreate("GET", "/v1/predictions")).toBe(false);
    expect(isCreate("GET", "/v1/predictions/abc")).toBe(false);
    expect(isCreate("POST", "/v1/predictions/abc/cancel")).toBe(false);
    expect(isCreate("POST", "/v1/files")).toBe(false);
  });
});
