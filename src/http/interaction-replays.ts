// A signed interaction is taken once. The signature's timestamp check refuses a request older (or newer) than
// 5 minutes, but within that window a captured request would verify again and start its work again (a second
// /character, charged twice). Each interaction's id is remembered for the window on both sides of now: in this
// process, or, with the shared queue's Redis, for every front end behind the load balancer (SET NX with expiry).
import type { Redis } from "ioredis";
import type { Logger } from "../kit/logger.ts";
import { MAX_SIGNATURE_AGE_S } from "./interaction-signature.ts";

/** How long an id is remembered: a request signed at the far end of the window either way is still refused. */
export const REMEMBER_MS = 2 * MAX_SIGNATURE_AGE_S * 1000;

/** How long the check in Redis may take before the process's own memory decides. */
const REDIS_ANSWER_MS = 300;

export interface SeenInteractions {
  /** True the first time `id` is seen within REMEMBER_MS, false for a replay. */
  firstSight(id: string, now: number): Promise<boolean>;
}

/** Ids remembered in this process, the oldest forgotten first. */
export function seenInMemory(): SeenInteractions {
  const seen = new Map<string, number>();
  return {
    async firstSight(id, now) {
      // Insertion order is expiry order: forget from the front while it has expired.
      for (const [old, expires] of seen) {
        if (expires > now) break;
        seen.delete(old);
      }
      if (seen.has(id)) return false;
      seen.set(id, now + REMEMBER_MS);
      return true;
    },
  };
}

/**
 * Ids remembered in Redis under `prefix`, shared by every front end given the same one. While Redis does not
 * answer, this process's own memory decides: an interaction is never refused for Redis being away.
 */
export function seenInRedis(redis: Redis, prefix: string, log: Logger): SeenInteractions {
  const local = seenInMemory();
  return {
    async firstSight(id, now) {
      const first = await local.firstSight(id, now);
      if (!first) return false;
      // The queue's connection holds commands while Redis is away instead of failing them: an answer not
      // back within REDIS_ANSWER_MS lets this process's memory decide, so Discord's 3 s are never spent here.
      const set = redis.set(`${prefix}:interaction-seen:${id}`, "1", "PX", REMEMBER_MS, "NX");
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), REDIS_ANSWER_MS);
      });
      try {
        const answer = await Promise.race([set, late]);
        if (answer !== "late") return answer === "OK";
        log.warn("Redis did not answer in time for an interaction id; this process's memory decides");
        set.catch(() => undefined);
        return true;
      } catch (err) {
        log.warn({ err }, "could not check an interaction id in Redis; this process's memory decides");
        return true;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
