import { setTimeout as sleep } from 'node:timers/promises';
import type { ProfileUpdatedEvent } from '@app/events';
import type { LoyaltyCardServiceSetting } from '@app/settings';
import { toLoyaltyPayload, type LoyaltyCustomerPayload } from './loyalty-payload.ts';

/** One PUT of a customer to the loyalty card service. */
export interface LoyaltyCall {
  customerId: string;
  /** The event id: a redelivered event is a replay at the provider, never a second change. */
  idempotencyKey: string;
  payload: LoyaltyCustomerPayload;
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
}

export type LoyaltyCallResult = 'applied' | 'replayed';

/**
 * - rejected: the provider refused this request (4xx other than 408/429); sending it again cannot help.
 * - retryable: this attempt failed (5xx, 408, 429, timeout, network); another attempt may succeed.
 * - unavailable: the circuit is open; nothing is attempted until the provider recovers.
 */
export type LoyaltyFailureKind = 'rejected' | 'retryable' | 'unavailable';

export class LoyaltyCallError extends Error {
  override name = 'LoyaltyCallError';
  readonly kind: LoyaltyFailureKind;
  readonly status: number | undefined;

  constructor(kind: LoyaltyFailureKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
  }
}

export interface LoyaltyGateway {
  putCustomer(call: LoyaltyCall): Promise<LoyaltyCallResult>;
  /** Whether the provider answered any call (not with a retryable failure) since this time (Date.now() ms). */
  answeredSince(time: number): boolean;
}

export interface AppliedVersion {
  userId: number;
  profileVersion: number;
  eventId: string;
}

/** The last profile version applied at the provider, per user. */
export interface AppliedVersions {
  lastAppliedVersion(userId: number): Promise<number | undefined>;
  /** Records a newer version; an older one than what is stored changes nothing. */
  recordApplied(applied: AppliedVersion): Promise<void>;
}

export type SkipReason = 'disabled' | 'source' | 'stale';
export type DeadLetterReason = 'rejected' | 'retries-exhausted';

export type SyncOutcome =
  | { kind: 'applied'; result: LoyaltyCallResult; attempts: number }
  | { kind: 'skipped'; reason: SkipReason; lastApplied?: number }
  | { kind: 'dead-letter'; reason: DeadLetterReason; error: string; attempts: number }
  /** The circuit is open: the event must be handled again later, not acknowledged. */
  | { kind: 'unavailable'; attempts: number }
  /**
   * Every attempt failed but the provider served no one else meanwhile either: it looks down
   * rather than this event being at fault (the circuit has not caught up yet). Handled again
   * later, not dead-lettered.
   */
  | { kind: 'deferred'; error: string; attempts: number }
  /** Shutdown began while waiting between attempts: not acknowledged, the next owner handles it. */
  | { kind: 'interrupted'; attempts: number };

export interface SyncUseCaseDeps {
  loyaltySetting: () => Promise<LoyaltyCardServiceSetting>;
  applied: AppliedVersions;
  gateway: LoyaltyGateway;
  maxAttempts: number;
  retryBackoffMs: number;
  /** Observes every failed attempt (logs, metrics). */
  onAttemptFailed?: (event: ProfileUpdatedEvent, attempt: number, error: LoyaltyCallError) => void;
}

/** Backoff before attempt n+1: base, 2x, 4x, 8x, 8x... */
export function backoffMs(base: number, attempt: number): number {
  return base * 2 ** Math.min(attempt - 1, 3);
}

/**
 * Decides what one ProfileUpdated event means for the loyalty card service and carries it out:
 * skip it (sync off, wrong source, not newer than what was applied), apply it (retrying a
 * retryable failure in process), or report that it must be dead-lettered or retried later.
 */
export class SyncUseCase {
  private readonly deps: SyncUseCaseDeps;

  constructor(deps: SyncUseCaseDeps) {
    this.deps = deps;
  }

  async handle(event: ProfileUpdatedEvent, signal?: AbortSignal): Promise<SyncOutcome> {
    const setting = await this.deps.loyaltySetting();
    if (!setting.enabled) return { kind: 'skipped', reason: 'disabled' };
    // A resync exists to bring the provider up to date: it is sent whatever sync_all_updates says.
    if (event.source === 'profile' && !setting.sync_all_updates) {
      return { kind: 'skipped', reason: 'source' };
    }
    const lastApplied = await this.deps.applied.lastAppliedVersion(event.user_id);
    if (lastApplied !== undefined && lastApplied >= event.profile_version) {
      return { kind: 'skipped', reason: 'stale', lastApplied };
    }

    const call: LoyaltyCall = {
      customerId: String(event.user_id),
      idempotencyKey: event.event_id,
      payload: toLoyaltyPayload(event),
      baseUrl: setting.base_url,
      apiKey: setting.api_key,
      timeoutMs: setting.timeout_ms,
    };
    let firstFailureAt: number | undefined;
    for (let attempt = 1; ; attempt += 1) {
      let result: LoyaltyCallResult;
      try {
        result = await this.deps.gateway.putCustomer(call);
      } catch (error) {
        if (!(error instanceof LoyaltyCallError)) throw error;
        this.deps.onAttemptFailed?.(event, attempt, error);
        if (error.kind === 'unavailable') return { kind: 'unavailable', attempts: attempt };
        if (error.kind === 'rejected') {
          return { kind: 'dead-letter', reason: 'rejected', error: error.message, attempts: attempt };
        }
        firstFailureAt ??= Date.now();
        if (attempt >= this.deps.maxAttempts) {
          // Dead-letter only what fails while the provider serves others: at the start of an
          // outage the circuit needs a few failures to open, and those events must not be lost.
          if (!this.deps.gateway.answeredSince(firstFailureAt)) {
            return { kind: 'deferred', error: error.message, attempts: attempt };
          }
          return {
            kind: 'dead-letter',
            reason: 'retries-exhausted',
            error: error.message,
            attempts: attempt,
          };
        }
        if (signal?.aborted) return { kind: 'interrupted', attempts: attempt };
        try {
          await sleep(backoffMs(this.deps.retryBackoffMs, attempt), undefined, { signal });
        } catch {
          return { kind: 'interrupted', attempts: attempt };
        }
        continue;
      }
      await this.deps.applied.recordApplied({
        userId: event.user_id,
        profileVersion: event.profile_version,
        eventId: event.event_id,
      });
      return { kind: 'applied', result, attempts: attempt };
    }
  }
}
