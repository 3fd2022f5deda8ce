import type { ScenarioName } from './config.ts';
import type { LoadFigures } from './load.ts';

export type TargetName = 'floor' | 'api';

export interface RunRecord {
  scenario: ScenarioName;
  target: TargetName;
  round: number;
  figures: LoadFigures;
}

export interface ScenarioSummary {
  scenario: ScenarioName;
  /** The best measured run (highest req/s) of each target. */
  floor: LoadFigures;
  api: LoadFigures;
  /** api req/s ÷ floor req/s. */
  ratio: number;
  /**
   * floor server CPU per request ÷ api server CPU per request: the throughput ratio to expect when the
   * servers' own CPU, not the database, bounds throughput.
   */
  cpuRatio: number | undefined;
}

/** The targets: profile-api serves at least this share of the floor's throughput, per scenario. */
export const TARGET_RATIOS: Record<ScenarioName, number> = { get: 1.0, patch: 0.8 };

function best(runs: RunRecord[], scenario: ScenarioName, target: TargetName): LoadFigures {
  const mine = runs.filter((run) => run.scenario === scenario && run.target === target);
  if (mine.length === 0) throw new Error(`no ${target} run of ${scenario}`);
  return mine.reduce((a, b) => (b.figures.reqPerSec > a.figures.reqPerSec ? b : a)).figures;
}

export function summarize(runs: RunRecord[], scenarios: ScenarioName[]): ScenarioSummary[] {
  return scenarios.map((scenario) => {
    const floor = best(runs, scenario, 'floor');
    const api = best(runs, scenario, 'api');
    const [floorCpu, apiCpu] = [floor.cpuMsPerRequest.server, api.cpuMsPerRequest.server];
    return {
      scenario,
      floor,
      api,
      ratio: floor.reqPerSec > 0 ? api.reqPerSec / floor.reqPerSec : 0,
      cpuRatio: floorCpu !== undefined && apiCpu ? floorCpu / apiCpu : undefined,
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
  const header = [
    'scenario',
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'errors',
    'srv cpu ms/req',
    'db cpu ms/req',
    'api/floor req/s',
    'floor/api cpu',
  ];
  const rows: string[][] = [];
  for (const { scenario, floor, api, ratio, cpuRatio } of summaries) {
    const label = `${scenario.toUpperCase()} /users/profile/`;
    for (const [target, figures] of [
      ['floor', floor],
      ['api', api],
    ] as const) {
      rows.push([
        label,
        target,
        fixed(figures.reqPerSec, 0),
        fixed(figures.p50Ms, 1),
        fixed(figures.p99Ms, 1),
        String(figures.non2xx),
        String(figures.errors),
        fixed(figures.cpuMsPerRequest.server, 3),
        fixed(figures.cpuMsPerRequest.db, 2),
        target === 'api' ? ratio.toFixed(2) : '',
        target === 'api' ? fixed(cpuRatio, 2) : '',
      ]);
    }
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
        `  (load avg ${f.loadAverage.toFixed(1)})`,
    )
    .join('\n');
}

/** Which process was busiest per run: the database, or the server itself. */
export function renderBottlenecks(summaries: ScenarioSummary[]): string {
  const lines: string[] = [];
  for (const { scenario, floor, api } of summaries) {
    for (const [target, figures] of [
      ['floor', floor],
      ['api', api],
    ] as const) {
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
  const lines = summaries.map((summary) => {
    const target = TARGET_RATIOS[summary.scenario];
    const met = summary.ratio >= target;
    const cpu =
      summary.cpuRatio === undefined
        ? ''
        : `; by server CPU per request, profile-api costs ${(1 / summary.cpuRatio).toFixed(2)} × the floor ` +
          `(${summary.cpuRatio.toFixed(2)} × floor throughput where the server's CPU is the limit)`;
    return (
      `${summary.scenario.toUpperCase()} target ${met ? 'MET' : 'NOT MET'}: profile-api ` +
      `${summary.api.reqPerSec.toFixed(0)} req/s = ${summary.ratio.toFixed(2)} × floor ` +
      `${summary.floor.reqPerSec.toFixed(0)} req/s (target ≥ ${target} × floor)${cpu}`
    );
  });
  return lines.length > 0 ? lines.join('\n') : undefined;
}
