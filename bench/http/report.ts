import type { ScenarioName } from './config.ts';
import type { LoadFigures } from './load.ts';

/** `floor`, or the name of a profile-api variant (`api` unless BENCH_API_VARIANTS names others). */
export type TargetName = string;

export interface RunRecord {
  scenario: ScenarioName;
  target: TargetName;
  round: number;
  figures: LoadFigures;
}

export interface VariantSummary {
  name: string;
  /** The best measured run (highest req/s). */
  figures: LoadFigures;
  /** Median req/s over its measured runs: less flattering than the best, and steadier under noise. */
  medianReqPerSec: number;
  /** req/s ÷ floor req/s (best runs). */
  ratio: number;
  /**
   * floor server CPU per request ÷ this variant's: the throughput ratio to expect when the servers'
   * own CPU, not the database, bounds throughput.
   */
  cpuRatio: number | undefined;
  /** req/s ÷ the first variant's req/s (best runs): what the variant costs against the baseline. */
  vsFirst: number;
}

export interface ScenarioSummary {
  scenario: ScenarioName;
  floor: LoadFigures;
  floorMedianReqPerSec: number;
  /** One per profile-api variant, in the order they were given; the first is the baseline. */
  variants: VariantSummary[];
}

/** The targets: profile-api serves at least this share of the floor's throughput, per scenario. */
export const TARGET_RATIOS: Record<ScenarioName, number> = { get: 1.0, patch: 0.8 };

function runsOf(runs: RunRecord[], scenario: ScenarioName, target: TargetName): LoadFigures[] {
  const mine = runs.filter((run) => run.scenario === scenario && run.target === target);
  if (mine.length === 0) throw new Error(`no ${target} run of ${scenario}`);
  return mine.map((run) => run.figures);
}

const bestOf = (figures: LoadFigures[]) => figures.reduce((a, b) => (b.reqPerSec > a.reqPerSec ? b : a));

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(
  runs: RunRecord[],
  scenarios: ScenarioName[],
  variants: string[],
): ScenarioSummary[] {
  return scenarios.map((scenario) => {
    const floorRuns = runsOf(runs, scenario, 'floor');
    const floor = bestOf(floorRuns);
    let first: LoadFigures | undefined;
    const summaries = variants.map((name): VariantSummary => {
      const mine = runsOf(runs, scenario, name);
      const figures = bestOf(mine);
      first ??= figures;
      const [floorCpu, cpu] = [floor.cpuMsPerRequest.server, figures.cpuMsPerRequest.server];
      return {
        name,
        figures,
        medianReqPerSec: medianOf(mine.map((each) => each.reqPerSec)),
        ratio: floor.reqPerSec > 0 ? figures.reqPerSec / floor.reqPerSec : 0,
        cpuRatio: floorCpu !== undefined && cpu ? floorCpu / cpu : undefined,
        vsFirst: first.reqPerSec > 0 ? figures.reqPerSec / first.reqPerSec : 0,
      };
    });
    return {
      scenario,
      floor,
      floorMedianReqPerSec: medianOf(floorRuns.map((each) => each.reqPerSec)),
      variants: summaries,
    };
  });
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '-' : value.toFixed(digits);

/** Cores a process kept busy during a run: CPU ms per request × requests per second ÷ 1000. */
const cores = (figures: LoadFigures, meter: 'server' | 'db') => {
  const perRequest = figures.cpuMsPerRequest[meter];
  return perRequest === undefined ? undefined : (perRequest * figures.reqPerSec) / 1000;
};

export function renderTable(summaries: ScenarioSummary[]): string {
  const several = (summaries[0]?.variants.length ?? 0) > 1;
  const header = [
    'scenario',
    'target',
    'req/s',
    'median req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'errors',
    'srv cpu ms/req',
    'db cpu ms/req',
    'api/floor req/s',
    'floor/api cpu',
    ...(several ? [`÷ ${summaries[0]!.variants[0]!.name} req/s`] : []),
  ];
  const rows: string[][] = [];
  for (const { scenario, floor, floorMedianReqPerSec, variants } of summaries) {
    const label = `${scenario.toUpperCase()} /users/profile/`;
    const row = (target: string, figures: LoadFigures, median: number, variant?: VariantSummary) => [
      label,
      target,
      fixed(figures.reqPerSec, 0),
      fixed(median, 0),
      fixed(figures.p50Ms, 1),
      fixed(figures.p99Ms, 1),
      String(figures.non2xx),
      String(figures.errors),
      fixed(figures.cpuMsPerRequest.server, 3),
      fixed(figures.cpuMsPerRequest.db, 2),
      variant ? variant.ratio.toFixed(2) : '',
      variant ? fixed(variant.cpuRatio, 2) : '',
      ...(several ? [variant ? variant.vsFirst.toFixed(3) : ''] : []),
    ];
    rows.push(row('floor', floor, floorMedianReqPerSec));
    for (const variant of variants)
      rows.push(row(variant.name, variant.figures, variant.medianReqPerSec, variant));
  }
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderRuns(runs: RunRecord[]): string {
  return runs
    .map(
      ({ scenario, target, round, figures: f }) =>
        `  ${scenario.padEnd(5)} ${target.padEnd(5)} round ${round}: ${fixed(f.reqPerSec, 0).padStart(6)} req/s` +
        `  p50 ${fixed(f.p50Ms, 1)} ms  p99 ${fixed(f.p99Ms, 1)} ms  non-2xx ${f.non2xx}  errors ${f.errors}` +
        `  cpu/req: server ${fixed(f.cpuMsPerRequest.server, 3)} ms, db ${fixed(f.cpuMsPerRequest.db, 2)} ms` +
        `, redis ${fixed(f.cpuMsPerRequest.redis, 3)}, kafka ${fixed(f.cpuMsPerRequest.kafka, 3)}` +
        `, port proxies ${fixed(f.cpuMsPerRequest.proxy, 3)}` +
        `, load generator ${fixed(f.cpuMsPerRequest.bench, 3)}, machine ${fixed(f.cpuMsPerRequest.machine, 2)}` +
        `  (load avg ${f.loadAverage.toFixed(1)})`,
    )
    .join('\n');
}

/** Which process was busiest per run: the database, or the server itself. */
export function renderBottlenecks(summaries: ScenarioSummary[]): string {
  const lines: string[] = [];
  for (const { scenario, floor, variants } of summaries) {
    for (const [target, figures] of [
      ['floor', floor] as const,
      ...variants.map((variant) => [variant.name, variant.figures] as const),
    ]) {
      const [server, db] = [cores(figures, 'server'), cores(figures, 'db')];
      lines.push(
        `  ${scenario.toUpperCase().padEnd(5)} ${target.padEnd(5)} kept busy: server ${fixed(server, 2)} cores, ` +
          `database ${fixed(db, 2)} cores${db !== undefined && server !== undefined && db > 2 * server ? '  ← database-bound' : ''}`,
      );
    }
  }
  return lines.join('\n');
}

export function verdict(summaries: ScenarioSummary[]): string | undefined {
  const lines = summaries.flatMap((summary) =>
    summary.variants.map((variant) => {
      const target = TARGET_RATIOS[summary.scenario];
      const met = variant.ratio >= target;
      const cpu =
        variant.cpuRatio === undefined
          ? ''
          : `; by server CPU per request, profile-api costs ${(1 / variant.cpuRatio).toFixed(2)} × the floor ` +
            `(${variant.cpuRatio.toFixed(2)} × floor throughput where the server's CPU is the limit)`;
      const name = summary.variants.length > 1 ? ` (${variant.name})` : '';
      return (
        `${summary.scenario.toUpperCase()} target ${met ? 'MET' : 'NOT MET'}: profile-api${name} ` +
        `${variant.figures.reqPerSec.toFixed(0)} req/s = ${variant.ratio.toFixed(2)} × floor ` +
        `${summary.floor.reqPerSec.toFixed(0)} req/s (target ≥ ${target} × floor)${cpu}`
      );
    }),
  );
  return lines.length > 0 ? lines.join('\n') : undefined;
}
