import { waitFor } from '@app/testkit';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@app/service-kit';
import {
  createLoyaltyCardClient,
  customerUrl,
  type BreakerState,
  type CallOutcome,
  type LoyaltyCardClient,
} from '../src/data-access/loyalty-card-client.ts';
import { LoyaltyCallError, type LoyaltyCall } from '../src/domain/sync-use-case.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

type Answer = { status: number; body?: unknown; delayMs?: number };

/** A stand-in provider on a real socket: answers what the test scripts, records what it got. */
async function stubProvider() {
  const received: Received[] = [];
  let answer: Answer = { status: 200, body: { applied: true } };
  let aborted = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: raw ? JSON.parse(raw) : undefined,
      });
      const { status, body, delayMs = 0 } = answer;
      const timer = setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body ?? {}));
      }, delayMs);
      res.on('close', () => {
        if (!res.writableFinished) {
          aborted += 1;
          clearTimeout(timer);
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    answer: (next: Answer) => (answer = next),
    aborted: () => aborted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('loyalty card client', () => {
  let provider: Awaited<ReturnType<typeof stubProvider>>;
  let client: LoyaltyCardClient;
  let outcomes: CallOutcome[];
  let states: BreakerState[];

  const call = (overrides: Partial<LoyaltyCall> = {}): LoyaltyCall => ({
    customerId: '42',
    idempotencyKey: 'evt-1',
    payload: {
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: 'ada@example.com',
      phone: null,
      date_of_birth: null,
      gender: null,
      language_code: 'en',
      email_allowed: true,
      sms_allowed: false,
      whatsapp_allowed: false,
      call_allowed: null,
      profile_version: 2,
    },
    baseUrl: provider.url,
    apiKey: 'secret-key',
    timeoutMs: 1_000,
    ...overrides,
  });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error as LoyaltyCallError,
    );

  beforeEach(async () => {
    provider = await stubProvider();
    outcomes = [];
    states = [];
    client = createLoyaltyCardClient({
      breaker: {
        errorThresholdPercentage: 50,
        volumeThreshold: 3,
        resetTimeoutMs: 200,
        rollingWindowMs: 10_000,
      },
      maxConnections: 8,
      logger: createLogger('loyalty-card-client-test', { level: 'silent' }),
      onCall: (outcome) => outcomes.push(outcome),
    });
    client.onStateChange((state) => states.push(state));
  });

  afterEach(async () => {
    client.shutdown();
    await provider.close();
  });

  test('when a customer is sent, then it is a JSON PUT with the idempotency key and the bearer key', async () => {
    const result = await client.putCustomer(call());

    expect(result).toBe('applied');
    expect(provider.received).toEqual([
      {
        method: 'PUT',
        url: '/customers/42',
        headers: expect.objectContaining({
          'content-type': 'application/json',
          'idempotency-key': 'evt-1',
          authorization: 'Bearer secret-key',
          connection: 'keep-alive',
        }),
        body: call().payload,
      },
    ]);
    expect(outcomes).toEqual(['applied']);
  });

  test('when the provider answers a replay, then the result says so', async () => {
    provider.answer({ status: 200, body: { applied: false, replayed: true } });

    expect(await client.putCustomer(call())).toBe('replayed');
    expect(client.answeredSince(Date.now() - 1_000)).toBe(true);
  });

  test('when the provider refuses requests with 4xx, then they are rejected and the circuit stays closed', async () => {
    for (const status of [400, 404, 409, 422, 400, 400]) {
      provider.answer({ status });
      const error = await failure(client.putCustomer(call()));
      expect(error).toBeInstanceOf(LoyaltyCallError);
      expect({ kind: error.kind, status: error.status }).toEqual({ kind: 'rejected', status });
    }
    expect(client.state()).toBe('closed');
    expect(states).toEqual([]);
  });

  test.each([401, 403])(
    'when the provider answers %i (API key refused), then the circuit opens at once and the call is unavailable, not rejected',
    async (status) => {
      provider.answer({ status });

      const refused = await failure(client.putCustomer(call()));
      const next = await failure(client.putCustomer(call()));

      expect({ kind: refused.kind, status: refused.status }).toEqual({ kind: 'unavailable', status });
      expect(refused.message).toBe(`loyalty card service answered ${status}: the API key was refused`);
      expect(client.state()).toBe('open');
      expect(client.authBlocked()).toBe(true);
      expect(next.kind).toBe('unavailable');
      expect(provider.received).toHaveLength(1);
      expect(outcomes).toEqual(['unauthorized', 'circuit-open']);
      // Not an answer that served anyone: a provider refusing the key looks down, not healthy.
      expect(client.answeredSince(0)).toBe(false);
    },
  );

  test('when the key is still refused at the half-open trial, then the circuit opens again; once it is accepted, the circuit closes and the block clears', async () => {
    const halfOpen = () =>
      new Promise<void>((resolve) => client.onStateChange((state) => state === 'half-open' && resolve()));
    provider.answer({ status: 401 });
    await failure(client.putCustomer(call()));

    await halfOpen();
    expect((await failure(client.putCustomer(call()))).kind).toBe('unavailable');
    expect(client.state()).toBe('open');
    expect(client.authBlocked()).toBe(true);

    provider.answer({ status: 200, body: { applied: true } });
    await halfOpen();
    expect(await client.putCustomer(call({ apiKey: 'rotated-key' }))).toBe('applied');
    expect(client.state()).toBe('closed');
    expect(client.authBlocked()).toBe(false);
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
    expect(provider.received.at(-1)?.headers.authorization).toBe('Bearer rotated-key');
  });

  test('when the provider answers 408, 429 or 5xx, then the attempt is retryable', async () => {
    for (const status of [408, 429]) {
      provider.answer({ status });
      expect(await failure(client.putCustomer(call()))).toMatchObject({ kind: 'retryable', status });
    }
    expect(client.answeredSince(0)).toBe(false);
  });

  test('when failures pass the threshold, then the circuit opens, calls fail fast without reaching the provider, and a good trial call closes it', async () => {
    provider.answer({ status: 503 });
    const kinds = [];
    for (let index = 0; index < 3; index += 1) kinds.push((await failure(client.putCustomer(call()))).kind);
    // The failure that opened the circuit reports the provider unavailable rather than a retryable attempt.
    expect(kinds).toEqual(['retryable', 'retryable', 'unavailable']);
    expect(client.state()).toBe('open');

    const fast = await failure(client.putCustomer(call()));
    expect(fast.kind).toBe('unavailable');
    expect(provider.received).toHaveLength(3);
    expect(outcomes.at(-1)).toBe('circuit-open');

    provider.answer({ status: 200, body: { applied: true } });
    await new Promise<void>((resolve) => client.onStateChange((state) => state === 'half-open' && resolve()));
    expect(await client.putCustomer(call())).toBe('applied');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  test('when the provider is slower than timeout_ms, then the request is cancelled and the attempt is retryable', async () => {
    provider.answer({ status: 200, body: { applied: true }, delayMs: 2_000 });

    const error = await failure(client.putCustomer(call({ timeoutMs: 100 })));

    expect(error).toMatchObject({
      kind: 'retryable',
      message: 'loyalty card service did not answer within 100 ms',
    });
    expect(outcomes).toEqual(['timeout']);
    await waitFor('the provider to see the request aborted', () => provider.aborted() >= 1, {
      timeoutMs: 2_000,
    });
    expect(provider.aborted()).toBe(1);
  });

  test('when nothing listens at the base URL, then the attempt is retryable and says why', async () => {
    const closed = provider.url;
    await provider.close();

    const error = await failure(client.putCustomer(call({ baseUrl: closed })));

    expect(error.kind).toBe('retryable');
    expect(error.message).toMatch(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  test('when the base URL has a path or a trailing slash, then the customer path is appended once', () => {
    expect(customerUrl('http://x/api/', '7')).toBe('http://x/api/customers/7');
    expect(customerUrl('http://x', 'a b')).toBe('http://x/customers/a%20b');
  });
});
