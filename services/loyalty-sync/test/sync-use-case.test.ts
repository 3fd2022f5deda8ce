import type { LoyaltyCardServiceSetting } from '@app/settings';
import {
  LoyaltyCallError,
  SyncUseCase,
  backoffMs,
  type AppliedVersion,
  type LoyaltyCall,
  type LoyaltyCallResult,
} from '../src/domain/sync-use-case.ts';
import { event, setting } from './support/events.ts';

type Step = LoyaltyCallResult | LoyaltyCallError;

function harness({
  live = setting(),
  lastApplied,
  steps = ['applied'],
  answered = false,
  maxAttempts = 3,
}: {
  live?: LoyaltyCardServiceSetting;
  lastApplied?: number;
  steps?: Step[];
  answered?: boolean;
  maxAttempts?: number;
} = {}) {
  const calls: LoyaltyCall[] = [];
  const recorded: AppliedVersion[] = [];
  const useCase = new SyncUseCase({
    loyaltySetting: async () => live,
    applied: {
      lastAppliedVersion: async () => lastApplied,
      recordApplied: async (applied) => {
        recorded.push(applied);
      },
    },
    gateway: {
      async putCustomer(call) {
        calls.push(call);
        const step = steps[Math.min(calls.length - 1, steps.length - 1)]!;
        if (step instanceof LoyaltyCallError) throw step;
        return step;
      },
      answeredSince: () => answered,
    },
    maxAttempts,
    retryBackoffMs: 1,
  });
  return { useCase, calls, recorded };
}

const retryable = () =>
  new LoyaltyCallError('retryable', 'loyalty card service answered 503', { status: 503 });

describe('sync use case', () => {
  test('when a loyalty update arrives, then the loyalty fields go to the provider under the event id and the version is recorded', async () => {
    const { useCase, calls, recorded } = harness();
    const update = event();

    const outcome = await useCase.handle(update);

    expect(outcome).toEqual({ kind: 'applied', result: 'applied', attempts: 1 });
    expect(calls).toEqual([
      {
        customerId: '7',
        idempotencyKey: update.event_id,
        baseUrl: 'http://loyalty.test',
        apiKey: 'key-1',
        timeoutMs: 500,
        payload: {
          first_name: 'Ada',
          last_name: 'Lovelace',
          email: 'ada@example.com',
          phone: '+905551112233',
          date_of_birth: '1990-12-10',
          gender: 'female',
          language_code: 'en',
          email_allowed: true,
          sms_allowed: false,
          whatsapp_allowed: true,
          call_allowed: null,
          profile_version: 3,
        },
      },
    ]);
    expect(recorded).toEqual([{ userId: 7, profileVersion: 3, eventId: update.event_id }]);
  });

  test('when the sync is disabled, then the event is skipped without a call', async () => {
    const { useCase, calls } = harness({ live: setting({ enabled: false }) });

    expect(await useCase.handle(event())).toEqual({ kind: 'skipped', reason: 'disabled' });
    expect(calls).toHaveLength(0);
  });

  test('when a plain profile change arrives, then it is skipped unless sync_all_updates is on', async () => {
    const off = harness();
    const on = harness({ live: setting({ sync_all_updates: true }) });

    expect(await off.useCase.handle(event({ source: 'profile' }))).toEqual({
      kind: 'skipped',
      reason: 'source',
    });
    expect(await on.useCase.handle(event({ source: 'profile' }))).toMatchObject({ kind: 'applied' });
    expect(off.calls).toHaveLength(0);
  });

  test('when a resync arrives while sync_all_updates is off, then it still reaches the provider', async () => {
    const { useCase, calls } = harness();

    expect(await useCase.handle(event({ source: 'resync' }))).toMatchObject({ kind: 'applied' });
    expect(calls).toHaveLength(1);
  });

  test('when a resync arrives while the sync is disabled, then it is skipped like any event', async () => {
    const { useCase, calls } = harness({ live: setting({ enabled: false }) });

    expect(await useCase.handle(event({ source: 'resync' }))).toEqual({
      kind: 'skipped',
      reason: 'disabled',
    });
    expect(calls).toHaveLength(0);
  });

  test('when the version is not newer than the last applied one, then it is skipped as stale', async () => {
    const same = harness({ lastApplied: 3 });
    const newer = harness({ lastApplied: 4 });
    const older = harness({ lastApplied: 2 });

    expect(await same.useCase.handle(event())).toEqual({ kind: 'skipped', reason: 'stale', lastApplied: 3 });
    expect(await newer.useCase.handle(event())).toEqual({ kind: 'skipped', reason: 'stale', lastApplied: 4 });
    expect(await older.useCase.handle(event())).toMatchObject({ kind: 'applied' });
    expect(same.calls.length + newer.calls.length).toBe(0);
  });

  test('when the provider refuses the request, then it is dead-lettered after one attempt and nothing is recorded', async () => {
    const refused = new LoyaltyCallError('rejected', 'loyalty card service answered 400', { status: 400 });
    const { useCase, calls, recorded } = harness({ steps: [refused] });

    expect(await useCase.handle(event())).toEqual({
      kind: 'dead-letter',
      reason: 'rejected',
      error: 'loyalty card service answered 400',
      attempts: 1,
    });
    expect(calls).toHaveLength(1);
    expect(recorded).toHaveLength(0);
  });

  test('when a retryable failure clears up, then the event is applied on a later attempt', async () => {
    const { useCase, calls } = harness({ steps: [retryable(), retryable(), 'replayed'] });

    expect(await useCase.handle(event())).toEqual({ kind: 'applied', result: 'replayed', attempts: 3 });
    expect(new Set(calls.map((call) => call.idempotencyKey)).size).toBe(1);
  });

  test('when every attempt fails while the provider serves other calls, then it is dead-lettered after MAX_ATTEMPTS', async () => {
    const { useCase, calls, recorded } = harness({ steps: [retryable()], answered: true, maxAttempts: 4 });

    expect(await useCase.handle(event())).toEqual({
      kind: 'dead-letter',
      reason: 'retries-exhausted',
      error: 'loyalty card service answered 503',
      attempts: 4,
    });
    expect(calls).toHaveLength(4);
    expect(recorded).toHaveLength(0);
  });

  test('when every attempt fails and the provider served nobody meanwhile, then the event is deferred, not dead-lettered', async () => {
    const { useCase } = harness({ steps: [retryable()], answered: false, maxAttempts: 3 });

    expect(await useCase.handle(event())).toEqual({
      kind: 'deferred',
      error: 'loyalty card service answered 503',
      attempts: 3,
    });
  });

  test('when the circuit is open, then the event is reported unavailable at once', async () => {
    const open = new LoyaltyCallError('unavailable', 'the loyalty card service circuit is open');
    const { useCase, calls, recorded } = harness({ steps: [retryable(), open] });

    expect(await useCase.handle(event())).toEqual({ kind: 'unavailable', attempts: 2 });
    expect(calls).toHaveLength(2);
    expect(recorded).toHaveLength(0);
  });

  test('when shutdown begins during a backoff, then the event is reported interrupted', async () => {
    const { useCase } = harness({ steps: [retryable()], maxAttempts: 5 });
    const stopping = new AbortController();
    stopping.abort();

    expect(await useCase.handle(event(), stopping.signal)).toEqual({ kind: 'interrupted', attempts: 1 });
  });

  test('when an unexpected error happens (e.g. the database), then it propagates for the caller to retry', async () => {
    const useCase = new SyncUseCase({
      loyaltySetting: async () => setting(),
      applied: {
        lastAppliedVersion: async () => {
          throw new Error('connection lost');
        },
        recordApplied: async () => undefined,
      },
      gateway: { putCustomer: async () => 'applied', answeredSince: () => true },
      maxAttempts: 3,
      retryBackoffMs: 1,
    });

    await expect(useCase.handle(event())).rejects.toThrow('connection lost');
  });

  test('when backoffs grow, then they double up to eight times the base', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffMs(250, attempt))).toEqual([
      250, 500, 1000, 2000, 2000, 2000,
    ]);
  });
});
