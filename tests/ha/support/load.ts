import { setTimeout as delay } from 'node:timers/promises';
import type { ApiClient } from '../../support/api-client.ts';

export const LOYALTY = '/users/profile-with-loyalty/';
/** A client gives up on one request after this long (HAProxy answers 504 after its 10 s server timeout). */
const REQUEST_TIMEOUT_MS = 15_000;

export interface StreamUser {
  id: number;
  client: ApiClient;
}

export interface Outcome {
  user: number;
  /** The first_name this request set: unique per request, so the provider's history names it. */
  name: string;
  /** The HTTP status; 0 when no answer came (connection error or client timeout). */
  status: number;
  /** Without an answer: why ("timeout" after REQUEST_TIMEOUT_MS, else the error's cause code). */
  error?: string;
  sentAt: number;
  answeredAt: number;
}

export interface StreamOptions {
  users: StreamUser[];
  ratePerSecond: number;
  durationMs: number;
  /** Prefix of the names, so each stream's updates are told apart in the provider's history. */
  tag: string;
}

export interface Stream {
  startedAt: number;
  /** Resolves at `ms` after the stream started: the fault timeline is laid out on the stream's clock. */
  at(ms: number): Promise<void>;
  /** Every request's outcome, once the last one has answered. */
  done: Promise<Outcome[]>;
}

/**
 * An open-loop stream of with-loyalty PATCHes at a fixed rate, users taken in turn: a request is sent
 * on schedule whether or not earlier ones have answered, as real clients do, so a stall shows up as
 * requests waiting rather than as a lower rate. Each changes first_name and last_name, which
 * loyalty-sync forwards to the provider.
 */
export function startPatchStream({ users, ratePerSecond, durationMs, tag }: StreamOptions): Stream {
  const startedAt = Date.now();
  const intervalMs = 1000 / ratePerSecond;
  const total = Math.floor((durationMs / 1000) * ratePerSecond);
  const at = async (ms: number) => {
    const wait = startedAt + ms - Date.now();
    // Pacing on the stream's clock, not a wait for a condition.
    if (wait > 0) await delay(wait);
  };
  const send = async (index: number): Promise<Outcome> => {
    const user = users[index % users.length]!;
    const name = `${tag}-${index}`;
    const sentAt = Date.now();
    const answer = await user.client
      .patch(
        LOYALTY,
        { first_name: name, last_name: `L${tag}${index}` },
        { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
      )
      .then(
        (response) => ({ status: response.status, error: undefined }),
        (error: Error & { cause?: { code?: string } }) => ({
          status: 0,
          error: error.name === 'TimeoutError' ? 'timeout' : (error.cause?.code ?? error.name),
        }),
      );
    return { user: user.id, name, ...answer, sentAt, answeredAt: Date.now() };
  };
  const done = (async () => {
    const pending: Promise<Outcome>[] = [];
    for (let index = 0; index < total; index += 1) {
      await at(index * intervalMs);
      pending.push(send(index));
    }
    return Promise.all(pending);
  })();
  return { startedAt, at, done };
}
