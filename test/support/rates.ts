// How requests spread over time, as a rate limit counts them.

/** The most of `times` (epoch ms, ascending) that fall within any one rolling second. */
export function busiestSecond(times: readonly number[]): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
