// Replicate's create limit as BullMQ's global rate limit: BullMQ counts in fixed windows, and Replicate over a
// rolling minute, in which the end of one 60 s window and the start of the next would both fit (up to twice the
// limit). Short windows, each with its share, keep any rolling minute under the limit.

/** The windows a minute is cut into (2 s each at the default 600): the more, the closer to the limit it runs. */
const MOST_WINDOWS = 30;

/**
 * At most `max` job starts in each window of `duration` ms, so that the at most `60 s ÷ duration + 1` windows a
 * rolling minute touches start no more than `perMinute` (600 a minute: 19 every 2 s, 570 a minute sustained,
 * at most 589 in any rolling minute). A limit of 1 a minute, one a window, can see 2 in a rolling minute:
 * fixed windows cannot do better.
 */
export function createRateWindows(perMinute: number): { max: number; duration: number } {
  const windows = Math.min(MOST_WINDOWS, Math.floor(perMinute / 2));
  if (windows < 1) return { max: 1, duration: 60_000 };
  return { max: Math.floor(perMinute / (windows + 1)), duration: 60_000 / windows };
}

/** Job starts a second the windows allow over a long wait. */
export function sustainedPerSecond(perMinute: number): number {
  const { max, duration } = createRateWindows(perMinute);
  return (max * 1000) / duration;
}
