/** Resource figures of the simulator's own process, for benchmarks (`BENCH` lines) and the CLI. */

export interface ResourceSample {
  /** CPU over the window, percent of one core (200 = both cores of a 2-core machine). */
  cpuPercent: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  rssMiB: number;
  heapUsedMiB: number;
  wallMs: number;
}

export function resourceSnapshot(): { rssMiB: number; heapUsedMiB: number; cpuUserMs: number; cpuSystemMs: number } {
  const m = process.memoryUsage();
  const c = process.cpuUsage();
  return {
    rssMiB: m.rss / 2 ** 20,
    heapUsedMiB: m.heapUsed / 2 ** 20,
    cpuUserMs: c.user / 1000,
    cpuSystemMs: c.system / 1000,
  };
}

/** CPU use of this process over `windowMs` (the event loop keeps running meanwhile) and memory at the end. */
export async function measureResources(windowMs: number): Promise<ResourceSample> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const d = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  const m = process.memoryUsage();
  return {
    cpuPercent: ((d.user + d.system) / 1000 / wallMs) * 100,
    cpuUserMs: d.user / 1000,
    cpuSystemMs: d.system / 1000,
    rssMiB: m.rss / 2 ** 20,
    heapUsedMiB: m.heapUsed / 2 ** 20,
    wallMs,
  };
}

/**
 * The p-th percentile of `xs` (the sample at floor(p% of n), the last for p = 100): what the benchmarks print.
 * NaN for no samples.
 */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
