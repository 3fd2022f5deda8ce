/**
 * End-to-end latency: PATCH /users/profile-with-loyalty/ at a fixed rate, scheduled by the clock
 * (open loop: a slow answer never delays the next request), each setting first_name to a marker
 * no other request uses; then the marker is looked up in provider-sim's customer histories.
 *
 * Latency = provider-sim's `applied_at` of the marker − the moment the PATCH answer arrived here.
 * Both are the same machine's wall clock (Date) in whole milliseconds, so a figure is within 1 ms.
 */
import type { BenchSession } from '../http/seed.ts';
import type { HistoryEntry } from './provider.ts';
import { distribution, sleep, type Distribution } from './stats.ts';

export const LOYALTY_PATH = '/users/profile-with-loyalty/';
const REQUEST_TIMEOUT_MS = 10_000;
/** Past this many unanswered PATCHes the driver stops sending (and counts what it did not send). */
const MAX_IN_FLIGHT = 2_000;

export interface SentUpdate {
  userId: number;
  marker: string;
  /** Date.now() when the request was due by the schedule, when it went out, when it was answered. */
  dueAt: number;
  sentAt: number;
  answeredAt: number | undefined;
  /** HTTP status; 0 for a network error or a timeout. */
  status: number;
  /** The answer carried the marker (the change was committed). */
  committed: boolean;
  /** Why no answer arrived (network error, timeout). */
  error?: string;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail ? `${error.name}: ${detail}` : `${error.name}: ${error.message}`;
}

export interface DriveSpec {
  apiUrl: string;
  sessions: readonly BenchSession[];
  rate: number;
  seconds: number;
  /** Makes the markers of this run unique: `${prefix}${index}`, at most 50 characters. */
  markerPrefix: string;
  /** Index of the first session used (continues a rotation across runs). */
  firstIndex?: number;
}

export interface DriveResult {
  updates: SentUpdate[];
  /** Requests the schedule called for but the driver did not send (too many unanswered). */
  notSent: number;
  /** How late, at worst, a request went out against its schedule (ms): the driver's own precision. */
  maxSendLagMs: number;
  /** Date.now() of the first and the last request sent, and when the last answer arrived. */
  startedAt: number;
  lastSentAt: number;
  endedAt: number;
}

async function patch(
  apiUrl: string,
  session: BenchSession,
  marker: string,
  update: SentUpdate,
): Promise<void> {
  try {
    const response = await fetch(`${apiUrl}${LOYALTY_PATH}`, {
      method: 'PATCH',
      headers: {
        cookie: session.cookie,
        'x-csrftoken': session.csrfToken,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ first_name: marker }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    update.answeredAt = Date.now();
    update.status = response.status;
    const body = (await response.json().catch(() => ({}))) as { first_name?: unknown };
    update.committed = response.status === 200 && body.first_name === marker;
  } catch (error) {
    update.answeredAt = undefined;
    update.status = 0;
    update.error = describeError(error);
  }
}

/** Sends rate × seconds PATCHes on the clock's schedule and waits for every answer. */
export async function driveUpdates(spec: DriveSpec): Promise<DriveResult> {
  const total = Math.round(spec.rate * spec.seconds);
  const intervalMs = 1000 / spec.rate;
  const updates: SentUpdate[] = [];
  const inFlight = new Set<Promise<void>>();
  let notSent = 0;
  let maxSendLagMs = 0;
  const startedAt = Date.now();
  const t0 = performance.now();
  let next = 0;
  while (next < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - t0) / intervalMs) + 1);
    for (; next < due; next += 1) {
      const lag = now - (t0 + next * intervalMs);
      if (lag > maxSendLagMs) maxSendLagMs = lag;
      if (inFlight.size >= MAX_IN_FLIGHT) {
        notSent += 1;
        continue;
      }
      const index = (spec.firstIndex ?? 0) + next;
      const session = spec.sessions[index % spec.sessions.length]!;
      const marker = `${spec.markerPrefix}${next}`;
      const sentAt = Date.now();
      const update: SentUpdate = {
        userId: session.userId,
        marker,
        dueAt: Math.round(startedAt + next * intervalMs),
        sentAt,
        answeredAt: undefined,
        status: 0,
        committed: false,
      };
      updates.push(update);
      const request = patch(spec.apiUrl, session, marker, update).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    if (next < total) await sleep(Math.max(0, t0 + next * intervalMs - performance.now()));
  }
  const lastSentAt = updates.at(-1)?.sentAt ?? startedAt;
  await Promise.all(inFlight);
  return { updates, notSent, maxSendLagMs, startedAt, lastSentAt, endedAt: Date.now() };
}

export interface EndToEndFigures {
  /** PATCHes the schedule called for. */
  scheduled: number;
  /** Sent and answered 200 with the marker: the updates the provider must receive. */
  sent: number;
  /** Sent but not committed (non-200, wrong body, network error, timeout), by status. */
  failed: Record<string, number>;
  notSent: number;
  /** Committed updates whose marker reached provider-sim. */
  delivered: number;
  /** Committed updates whose marker never reached it within the drain time. */
  missing: number;
  /** Their markers (first_name of the PATCH), to look for along the way. */
  missingMarkers: string[];
  /** Markers the provider applied twice (should be none). */
  duplicates: number;
  /** PATCH answer → provider applied (ms). */
  latency: Distribution | undefined;
  /** PATCH sent → answered (ms): how the API itself kept up with the rate. */
  apiLatency: Distribution | undefined;
  /** PATCH sent → provider applied (ms). */
  sendToApplied: Distribution | undefined;
  maxSendLagMs: number;
  achievedRate: number;
}

/** Matches each committed PATCH with its marker in the provider's histories. */
export function matchDeliveries(
  drive: DriveResult,
  scheduled: number,
  histories: Map<string, HistoryEntry[]>,
): EndToEndFigures {
  const appliedAt = new Map<string, number[]>();
  for (const history of histories.values()) {
    for (const entry of history) {
      const marker = entry.payload.first_name;
      if (typeof marker !== 'string') continue;
      const times = appliedAt.get(marker) ?? [];
      times.push(Date.parse(entry.applied_at));
      appliedAt.set(marker, times);
    }
  }
  const failed: Record<string, number> = {};
  const latencies: number[] = [];
  const apiLatencies: number[] = [];
  const sendToApplied: number[] = [];
  let sent = 0;
  const missingMarkers: string[] = [];
  let duplicates = 0;
  for (const update of drive.updates) {
    if (update.answeredAt !== undefined) apiLatencies.push(update.answeredAt - update.sentAt);
    if (!update.committed) {
      const key = update.status === 0 ? (update.error ?? 'no answer') : String(update.status);
      failed[key] = (failed[key] ?? 0) + 1;
      continue;
    }
    sent += 1;
    const times = appliedAt.get(update.marker);
    if (!times) {
      missingMarkers.push(update.marker);
      continue;
    }
    if (times.length > 1) duplicates += 1;
    latencies.push(times[0]! - update.answeredAt!);
    sendToApplied.push(times[0]! - update.sentAt);
  }
  const sendingS = (drive.lastSentAt - drive.startedAt) / 1000;
  return {
    scheduled,
    sent,
    failed,
    notSent: drive.notSent,
    delivered: latencies.length,
    missing: missingMarkers.length,
    missingMarkers,
    duplicates,
    latency: distribution(latencies),
    apiLatency: distribution(apiLatencies),
    sendToApplied: distribution(sendToApplied),
    maxSendLagMs: drive.maxSendLagMs,
    achievedRate: sendingS > 0 ? (drive.updates.length - 1) / sendingS : 0,
  };
}
