/** Percentile of already-collected samples (nearest-rank), in the samples' unit. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; returns each duration in ms. */
export async function timed(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const durations: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const started = performance.now();
        await task(i);
        durations.push(performance.now() - started);
      }
    }),
  );
  return durations;
}

export const ms = (value: number) => value.toFixed(1);
