import { describe, expect, it } from "vitest";
import { Cooldown } from "../../src/kit/cooldown.ts";
import { steppingClock } from "../support/env.ts";

describe("Cooldown", () => {
  it("allows one action per key in the window, and forgets keys whose window ended", () => {
    const clock = steppingClock();
    const cooldown = new Cooldown(clock, 1000);
    expect(cooldown.take("alice")).toBe(true);
    expect(cooldown.take("alice")).toBe(false);
    expect(cooldown.take("bob")).toBe(true);
    clock.advance(1000);
    expect(cooldown.take("alice")).toBe(true);
    // bob's window ended: taking any key drops it, so the map holds only the keys inside their window.
    expect(cooldown.size).toBe(1);
    for (let n = 0; n < 100; n++) {
      clock.advance(1000);
      cooldown.take(`member ${n}`);
    }
    expect(cooldown.size).toBe(1);
  });
});
