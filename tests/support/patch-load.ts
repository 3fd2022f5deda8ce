// A steady stream of loyalty-relevant PATCHes against a running stack, one request in flight per
// user so that a user's answered updates are committed in the order they were sent.

const LOYALTY = '/users/profile-with-loyalty/';

export interface LoadUser {
  id: number;
  /** Login key: `Authorization: Token <key>` needs no CSRF header. */
  key: string;
}

export interface SentPatch {
  userId: number;
  /** Unique per request: the provider's payload carries it, which ties an application to its PATCH. */
  firstName: string;
  sentAt: number;
  answeredAt: number;
  status: number;
}

export interface PatchLoad {
  /** Resolves once every request sent has been answered (or failed). */
  stop(): Promise<SentPatch[]>;
  sent(): readonly SentPatch[];
}

/**
 * Sends `ratePerSecond` PATCHes a second, round-robin over the users, skipping a user whose
 * previous request is still unanswered (the round-robin then takes the next free one).
 */
export function startPatchLoad(apiUrl: string, users: LoadUser[], ratePerSecond: number): PatchLoad {
  const results: SentPatch[] = [];
  const busy = new Set<number>();
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  let sequence = 0;
  const started = Date.now();
  let issued = 0;

  const send = (user: LoadUser) => {
    busy.add(user.id);
    sequence += 1;
    const firstName = `R${sequence}`;
    const sentAt = Date.now();
    const request = fetch(`${apiUrl}${LOYALTY}`, {
      method: 'PATCH',
      headers: { authorization: `Token ${user.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ first_name: firstName }),
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (response) => {
        await response.arrayBuffer();
        return response.status;
      })
      .catch(() => -1)
      .then((status) => {
        results.push({ userId: user.id, firstName, sentAt, answeredAt: Date.now(), status });
        busy.delete(user.id);
      });
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  // Catch up to the schedule on each tick, so a slow tick does not lower the rate.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * ratePerSecond);
    for (let tries = 0; issued < due && tries < users.length; tries += 1) {
      const user = users[next % users.length]!;
      next += 1;
      if (busy.has(user.id)) continue;
      send(user);
      issued += 1;
    }
  }, 10);

  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return results;
    },
    sent: () => results,
  };
}

/** A provider application as the analysis needs it. */
export interface Application {
  userId: number;
  firstName: string;
  version: number;
  idempotencyKey: string;
  appliedAt: number;
}

export interface DeliveryCheck {
  /** PATCHes answered 200. */
  committed: number;
  /** Provider applications in all: also of PATCHes whose answer was lost (a timeout) after their commit. */
  applied: number;
  /** Answered 200, never applied. */
  lost: number;
  /** Applications that carry no value any PATCH sent. */
  unknown: number;
  /** Updates applied more than once: repeated idempotency keys or repeated PATCH values. */
  twice: number;
  /** Users whose applied versions are not strictly increasing. */
  outOfOrderUsers: number;
}

export function checkDelivery(sent: SentPatch[], applications: Application[]): DeliveryCheck {
  const committed = sent.filter((patch) => patch.status === 200);
  const sentNames = new Set(sent.map((patch) => patch.firstName));
  const appliedNames = new Map<string, number>();
  const keys = new Map<string, number>();
  const versionsByUser = new Map<number, number[]>();
  for (const application of applications) {
    appliedNames.set(application.firstName, (appliedNames.get(application.firstName) ?? 0) + 1);
    keys.set(application.idempotencyKey, (keys.get(application.idempotencyKey) ?? 0) + 1);
    versionsByUser.set(application.userId, [
      ...(versionsByUser.get(application.userId) ?? []),
      application.version,
    ]);
  }
  const lost = committed.filter((patch) => !appliedNames.has(patch.firstName)).length;
  const twice =
    [...keys.values()].filter((count) => count > 1).length +
    [...appliedNames.values()].filter((count) => count > 1).length;
  const outOfOrderUsers = [...versionsByUser.values()].filter((versions) =>
    versions.some((version, index) => index > 0 && version <= versions[index - 1]!),
  ).length;
  const unknown = applications.filter((application) => !sentNames.has(application.firstName)).length;
  return { committed: committed.length, applied: applications.length, lost, unknown, twice, outOfOrderUsers };
}

export interface Window {
  name: string;
  from: number;
  to: number;
}

export interface WindowFigures {
  name: string;
  /** Longest interval between consecutive provider applications that overlaps the window. */
  longestGapMs: number;
  gapFrom: number;
  /** PATCH answered → provider applied, of the PATCHes answered within the window. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  updates: number;
}

export function windowFigures(
  window: Window,
  committed: SentPatch[],
  applications: Application[],
): WindowFigures {
  const times = applications.map((application) => application.appliedAt).sort((a, b) => a - b);
  let longestGapMs = 0;
  let gapFrom = window.from;
  for (let index = 1; index < times.length; index += 1) {
    const [start, end] = [times[index - 1]!, times[index]!];
    if (end < window.from || start > window.to) continue;
    if (end - start > longestGapMs) {
      longestGapMs = end - start;
      gapFrom = start;
    }
  }
  const appliedAt = new Map(
    applications.map((application) => [application.firstName, application.appliedAt]),
  );
  const delays = committed
    .filter((patch) => patch.answeredAt >= window.from && patch.answeredAt <= window.to)
    .map((patch) => (appliedAt.get(patch.firstName) ?? Number.NaN) - patch.answeredAt)
    .filter((delay) => Number.isFinite(delay))
    .sort((a, b) => a - b);
  const at = (quantile: number) =>
    delays.length === 0
      ? Number.NaN
      : delays[Math.min(delays.length - 1, Math.floor(quantile * delays.length))]!;
  return {
    name: window.name,
    longestGapMs,
    gapFrom,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: delays.at(-1) ?? Number.NaN,
    updates: delays.length,
  };
}
