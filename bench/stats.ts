// The benchmark's summaries of a list of timings: a quantile by linear interpolation, and the median.

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return (s[lo] as number) + ((s[Math.ceil(pos)] as number) - (s[lo] as number)) * (pos - lo);
}

export const median = (xs: number[]) => quantile(xs, 0.5);
