import { createFaultInjector } from '../src/domain/faults.ts';
import { createLoyaltyLedger } from '../src/domain/loyalty-ledger.ts';
import { normalizePhoneQuery } from '../src/domain/sms-gateway.ts';

describe('fault injector', () => {
  test('when error_rate is set, then the injected random decides which requests fail', () => {
    const draws = [0.1, 0.9];
    const faults = createFaultInjector(() => draws.shift() ?? 0);
    faults.update({ error_rate: 0.5, status: 502, latency_ms: 10 });

    expect(faults.decide()).toEqual({ delayMs: 10, failWith: { status: 502, reason: 'error-rate' } });
    expect(faults.decide()).toEqual({ delayMs: 10, failWith: undefined });
  });

  test('when down, then requests fail at once whatever the latency', () => {
    const faults = createFaultInjector(() => 0.99);
    faults.update({ down: true, latency_ms: 1000 });

    expect(faults.decide()).toEqual({ delayMs: 0, failWith: { status: 503, reason: 'down' } });
  });
});

describe('loyalty ledger', () => {
  test('when one key is applied and replayed many times, then it counts one application', () => {
    const ledger = createLoyaltyLedger({ now: () => new Date(0) });

    for (let i = 0; i < 5; i += 1) ledger.apply('c1', 'k1', { i });

    expect(ledger.get('c1')).toMatchObject({ current: { i: 0 }, applications: 1, replayed: 4 });
    expect(ledger.counts()).toEqual({
      customers: 1,
      applied: 1,
      replayed: 4,
      max_applications_per_key: 1,
      duplicate_applications: 0,
    });
  });
});

describe('phone number in a query string', () => {
  test.each([
    ['+905551112233', '+905551112233'],
    [' 905551112233', '+905551112233'],
    ['905551112233 ', '+905551112233'],
    ['', ''],
  ])('when %j arrives, then it is read as %j', (raw, expected) => {
    expect(normalizePhoneQuery(raw)).toBe(expected);
  });
});
