/** Tables of the pipeline benchmark: the end-to-end run, the throughput runs and the targets. */
import type { EndToEndFigures } from './e2e.ts';
import type { StageFigures } from './stages.ts';
import type { Distribution } from './stats.ts';
import type { ThroughputResult } from './throughput.ts';

export const E2E_P99_TARGET_MS = 100;
/** Events/s per worker by provider latency (ms). */
export const THROUGHPUT_TARGETS: Record<number, number> = { 0: 2_000, 50: 500 };

export interface TargetRow {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

const ms = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));

function distributionRow(label: string, d: Distribution | undefined): string[] {
  return [label, ms(d?.min), ms(d?.p50), ms(d?.p90), ms(d?.p99), ms(d?.max), d ? d.mean.toFixed(1) : '-'];
}

export function renderEndToEnd(figures: EndToEndFigures): string {
  const failed = Object.entries(figures.failed)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  const unanswered = Object.values(figures.failed).reduce((sum, count) => sum + count, 0);
  const saturated =
    unanswered > figures.scheduled * 0.01
      ? `\n${unanswered} of ${figures.scheduled} PATCHes failed or got no answer in time: the API side is ` +
        'saturated at this rate, so the latency below (if any) is queueing, not the pipeline; a lower ' +
        'BENCH_E2E_RATE measures the pipeline below saturation.'
      : '';
  return [
    `scheduled ${figures.scheduled}, sent+committed ${figures.sent}, failed ${failed || '0'}, ` +
      `not sent ${figures.notSent}; delivered ${figures.delivered}, missing ${figures.missing}, ` +
      `delivered twice ${figures.duplicates}; achieved ${figures.achievedRate.toFixed(1)} PATCH/s ` +
      `(worst send lag ${figures.maxSendLagMs.toFixed(1)} ms)${saturated}`,
    '',
    table(
      ['ms', 'min', 'p50', 'p90', 'p99', 'max', 'mean'],
      [
        distributionRow('PATCH answered → provider applied', figures.latency),
        distributionRow('PATCH sent → answered (API)', figures.apiLatency),
        distributionRow('PATCH sent → provider applied', figures.sendToApplied),
      ],
    ),
  ].join('\n');
}

export interface VariantRun {
  name: string;
  figures: EndToEndFigures;
  cores: Record<string, number | undefined>;
}

/**
 * The end-to-end runs of BENCH_TRACE_VARIANTS in one table. The load is open loop at one rate, so
 * throughput shows as the rate each run kept up with and how many of its PATCHes committed; the cost
 * shows as CPU per update of the two services (busy cores ÷ PATCH/s), divided by the first run's.
 */
export function renderVariants(runs: VariantRun[]): string {
  const base = runs[0]!;
  const perUpdate = (run: VariantRun, service: string) => {
    const cores = run.cores[service];
    return cores === undefined || run.figures.achievedRate === 0
      ? undefined
      : (cores * 1000) / run.figures.achievedRate;
  };
  const withRatio = (value: number | undefined, baseValue: number | undefined, digits: number) =>
    value === undefined
      ? '-'
      : `${value.toFixed(digits)}${baseValue ? ` (${(value / baseValue).toFixed(2)})` : ''}`;
  return table(
    [
      'tracing',
      'PATCH/s sent',
      'committed',
      'API p50/p99 ms',
      'e2e p50/p99 ms',
      'missing/twice',
      'profile-api CPU ms/update',
      'loyalty-sync CPU ms/update',
    ],
    runs.map((run) => [
      run.name,
      withRatio(run.figures.achievedRate, base.figures.achievedRate, 1),
      `${run.figures.sent} of ${run.figures.scheduled}`,
      `${ms(run.figures.apiLatency?.p50)}/${ms(run.figures.apiLatency?.p99)}`,
      `${ms(run.figures.latency?.p50)}/${ms(run.figures.latency?.p99)}`,
      `${run.figures.missing}/${run.figures.duplicates}`,
      withRatio(perUpdate(run, 'profile-api'), perUpdate(base, 'profile-api'), 3),
      withRatio(perUpdate(run, 'loyalty-sync'), perUpdate(base, 'loyalty-sync'), 3),
    ]),
  );
}

/** The same updates' time split by stage (commit time and Kafka record time in between). */
export function renderStages(stages: StageFigures): string {
  return [
    `by stage (${stages.matched} updates with their Kafka record):`,
    table(
      ['ms', 'min', 'p50', 'p90', 'p99', 'max', 'mean'],
      [
        distributionRow('PATCH sent → committed (API, before commit)', stages.sentToCommitted),
        distributionRow('committed → answered (API, after commit)', stages.committedToAnswered),
        distributionRow('committed → produced (outbox relay)', stages.committedToProduced),
        distributionRow('produced → applied (Kafka, worker, provider)', stages.producedToApplied),
      ],
    ),
  ].join('\n');
}

const num = (value: number | undefined, digits = 0) => (value === undefined ? '-' : value.toFixed(digits));

export function renderThroughput(results: ThroughputResult[]): string {
  const coreNames = [...new Set(results.flatMap((result) => Object.keys(result.cores)))];
  const header = [
    'provider latency',
    'workers',
    'events',
    'applied',
    'events/s',
    'per worker',
    'incl. start',
    'provider call ms',
    ...coreNames.map((name) => `${name} cores`),
    'busiest',
  ];
  const rows = results.map((result) => {
    const calls = result.perWorker.filter((worker) => worker.providerCallMeanMs !== undefined);
    const callMs =
      calls.length === 0
        ? undefined
        : calls.reduce((sum, worker) => sum + worker.providerCallMeanMs! * worker.providerCalls, 0) /
          calls.reduce((sum, worker) => sum + worker.providerCalls, 0);
    return [
      `${result.latencyMs} ms`,
      String(result.workers),
      String(result.events),
      `${result.applied}${result.complete ? '' : ' (timeout)'}`,
      num(result.eventsPerSec),
      num(result.eventsPerSecPerWorker),
      num(result.overallEventsPerSec),
      num(callMs, 1),
      ...coreNames.map((name) => num(result.cores[name], 2)),
      busiest(result.cores),
    ];
  });
  return table(header, rows);
}

/** The process that kept the most CPU busy: where to look first. */
export function busiest(cores: Record<string, number | undefined>): string {
  const [name] = Object.entries(cores).reduce<[string, number]>(
    (best, [key, value]) => (value !== undefined && value > best[1] ? [key, value] : best),
    ['-', -1],
  );
  return name;
}

export function targetRows(e2e: EndToEndFigures | undefined, throughput: ThroughputResult[]): TargetRow[] {
  const rows: TargetRow[] = [];
  if (e2e) {
    const p99 = e2e.latency?.p99;
    rows.push({
      target: `end-to-end p99 ≤ ${E2E_P99_TARGET_MS} ms (every committed update delivered)`,
      measured: `p99 ${ms(p99)} ms, ${e2e.missing} missing of ${e2e.sent}`,
      met: p99 !== undefined && p99 <= E2E_P99_TARGET_MS && e2e.missing === 0,
    });
  }
  for (const result of throughput) {
    const target = THROUGHPUT_TARGETS[result.latencyMs];
    rows.push({
      target:
        target === undefined
          ? `throughput at ${result.latencyMs} ms, ${result.workers} worker(s) (no target)`
          : `≥ ${target} events/s per worker at ${result.latencyMs} ms, ${result.workers} worker(s)`,
      measured: `${result.eventsPerSecPerWorker.toFixed(0)} per worker (${result.eventsPerSec.toFixed(0)} total)${result.complete ? '' : ', incomplete'}`,
      met: target === undefined ? undefined : result.complete && result.eventsPerSecPerWorker >= target,
    });
  }
  return rows;
}

export function renderTargets(rows: TargetRow[]): string {
  return table(
    ['target', 'measured', 'met'],
    rows.map((row) => [row.target, row.measured, row.met === undefined ? '-' : row.met ? 'yes' : 'NO']),
  );
}
