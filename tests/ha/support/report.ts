import type { CustomerView } from '../../support/loyalty-sync.ts';
import type { Outcome } from './load.ts';

export interface FaultWindow {
  /** When the fault was injected (ms since the epoch). */
  startedAt: number;
  /** When the last broken component was started again. */
  endedAt: number;
  /** What was broken, e.g. "kafka-2 (led 5/12)". */
  what: string;
}

export interface FaultReport {
  fault: string;
  what: string;
  sent: number;
  ok: number;
  /** Answers other than 2xx by status, or "no answer (why)". */
  other: Record<string, number>;
  /** 2xx answers: updates committed and acknowledged to the client. */
  committed: number;
  /** Committed updates the provider applied exactly once. */
  appliedOnce: number;
  lost: number;
  /** Provider applications beyond the first of one update (by name or by profile version). */
  appliedTwice: number;
  /** Updates answered with an error (or not at all) that were committed and applied all the same. */
  appliedUnacknowledged: number;
  longestGapMs: number;
  /** From the end of the fault to the first 2xx answered after it. */
  firstOkAfterMs: number | undefined;
  /** From the end of the fault until every committed update had been applied (NaN: not in time). */
  catchUpMs: number;
}

const isOk = (status: number) => status >= 200 && status < 300;

/** The longest stretch of the stream without a 2xx answer, its start and end included. */
export function longestGap(outcomes: Outcome[], startedAt: number): number {
  const times = outcomes
    .filter((outcome) => isOk(outcome.status))
    .map((outcome) => outcome.answeredAt)
    .sort((a, b) => a - b);
  const end = Math.max(...outcomes.map((outcome) => outcome.answeredAt));
  let previous = startedAt;
  let longest = 0;
  for (const time of [...times, end]) {
    longest = Math.max(longest, time - previous);
    previous = time;
  }
  return longest;
}

/** Compares what the clients were told with what the provider applied, update by update. */
export function faultReport(
  fault: string,
  tag: string,
  outcomes: Outcome[],
  customers: Map<number, CustomerView | undefined>,
  window: FaultWindow,
  streamStartedAt: number,
  caughtUpAt: number,
): FaultReport {
  const applications = new Map<string, number>();
  let appliedTwice = 0;
  for (const view of customers.values()) {
    const versions = new Set<number>();
    for (const entry of view?.history ?? []) {
      const name = String(entry.payload.first_name);
      if (!name.startsWith(`${tag}-`)) continue;
      applications.set(name, (applications.get(name) ?? 0) + 1);
      const version = Number(entry.payload.profile_version);
      if (versions.has(version) || applications.get(name)! > 1) appliedTwice += 1;
      versions.add(version);
    }
  }
  const other: Record<string, number> = {};
  for (const { status, error } of outcomes) {
    if (isOk(status)) continue;
    const key = status === 0 ? `no answer (${error})` : String(status);
    other[key] = (other[key] ?? 0) + 1;
  }
  const committed = outcomes.filter((outcome) => isOk(outcome.status));
  const firstOkAfter = committed
    .filter((outcome) => outcome.answeredAt >= window.endedAt)
    .map((outcome) => outcome.answeredAt)
    .sort((a, b) => a - b)[0];
  return {
    fault,
    what: window.what,
    sent: outcomes.length,
    ok: committed.length,
    other,
    committed: committed.length,
    appliedOnce: committed.filter((outcome) => applications.get(outcome.name) === 1).length,
    lost: committed.filter((outcome) => !applications.has(outcome.name)).length,
    appliedTwice,
    appliedUnacknowledged: outcomes.filter(
      (outcome) => !isOk(outcome.status) && applications.has(outcome.name),
    ).length,
    longestGapMs: longestGap(outcomes, streamStartedAt),
    firstOkAfterMs: firstOkAfter === undefined ? undefined : firstOkAfter - window.endedAt,
    catchUpMs: caughtUpAt - window.endedAt,
  };
}

const seconds = (ms: number | undefined) =>
  ms === undefined ? '-' : Number.isNaN(ms) ? 'not in time' : `${(ms / 1000).toFixed(1)} s`;

/** The reports as one Markdown table. */
export function reportTable(reports: FaultReport[]): string {
  const header = [
    'fault',
    'broken',
    'sent',
    '2xx',
    'other',
    'committed',
    'applied once',
    'lost',
    'applied twice',
    'applied, not acked',
    'longest no-2xx gap',
    'first 2xx after fault',
    'applied caught up after fault',
  ];
  const rows = reports.map((report) => [
    report.fault,
    report.what,
    String(report.sent),
    String(report.ok),
    Object.entries(report.other)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ') || '-',
    String(report.committed),
    String(report.appliedOnce),
    String(report.lost),
    String(report.appliedTwice),
    String(report.appliedUnacknowledged),
    seconds(report.longestGapMs),
    seconds(report.firstOkAfterMs),
    seconds(report.catchUpMs),
  ]);
  return [header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}
