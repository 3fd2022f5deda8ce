/** Small numeric helpers shared by the phases and the report. */

export interface Distribution {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of the values (ms); undefined when there are none. */
export function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return {
    count: sorted.length,
    min: sorted[0]!,
    p50: rank(0.5),
    p90: rank(0.9),
    p99: rank(0.99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}

/** Sum of the samples of a Prometheus metric whose labels include `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

export type CpuMeters = Record<string, () => number | undefined>;

/** CPU ms of each meter since `take()`; `cores()` turns it into busy cores over the elapsed time. */
export function cpuWindow(meters: CpuMeters): { cores: () => Record<string, number | undefined> } {
  const startedAt = performance.now();
  const before = Object.fromEntries(Object.entries(meters).map(([name, meter]) => [name, meter()]));
  return {
    cores: () => {
      const elapsedMs = performance.now() - startedAt;
      return Object.fromEntries(
        Object.entries(meters).map(([name, meter]) => {
          const [start, end] = [before[name], meter()];
          // A process that went away mid-window reads lower than before: no figure then.
          const valid = start !== undefined && end !== undefined && end >= start;
          return [name, valid ? (end - start) / elapsedMs : undefined];
        }),
      );
    },
  };
}

export function formatCores(cores: Record<string, number | undefined>): string {
  return Object.entries(cores)
    .map(([name, value]) => `${name} ${value === undefined ? '-' : value.toFixed(2)}`)
    .join(', ');
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
