import { DEFAULT_FAULT_KNOBS } from '../src/domain/faults.ts';
import { eventually, startSimClient, type SimClient } from './support/sim-client.ts';

describe('fault knobs', () => {
  let client: SimClient;

  beforeAll(async () => {
    client = await startSimClient();
  });

  afterAll(async () => {
    await client.sim.close();
  });

  beforeEach(async () => {
    await client.call('POST', '/_reset');
  });

  const setFaults = (json: unknown) => client.call('PUT', '/_faults', { json });
  const stats = async () => (await client.call('GET', '/stats')).body;
  const sendSms = () => client.call('POST', '/sms', { json: { to: '+905551112233', text: 'hi' } });

  test('when the knobs are partially updated, then the others keep their value and GET shows them', async () => {
    await setFaults({ latency_ms: 5 });
    const updated = await setFaults({ error_rate: 0.5 });

    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ latency_ms: 5, error_rate: 0.5, status: 503, down: false });
    expect((await client.call('GET', '/_faults')).body).toEqual(updated.body);
  });

  test('when the knobs are invalid, then 400 names each field', async () => {
    const rejected = await setFaults({ latency_ms: -1, error_rate: 2, status: 200, down: 'yes', extra: 1 });

    expect(rejected.status).toBe(400);
    expect(Object.keys(rejected.body).sort()).toEqual([
      'down',
      'error_rate',
      'extra',
      'latency_ms',
      'status',
    ]);
    expect((await client.call('GET', '/_faults')).body).toEqual(DEFAULT_FAULT_KNOBS);
  });

  test('when the provider is down, then provider calls get 503 and nothing is recorded', async () => {
    await setFaults({ down: true });

    const sms = await sendSms();
    const put = await client.putCustomer('42', 'evt-1', { v: 1 });

    expect(sms.status).toBe(503);
    expect(put.status).toBe(503);
    expect(put.body).toEqual({ detail: expect.stringContaining('down') });
    expect(put.headers.get('x-simulated-fault')).toBe('down');
    expect((await client.call('GET', '/sms/messages')).body).toEqual({ messages: [] });
    expect((await client.call('GET', '/customers/42')).status).toBe(404);
    expect(await stats()).toMatchObject({ rejected_by_fault: 2, applied: 0, sms_sent: 0 });
  });

  test('when the provider is down, then the control endpoints still answer', async () => {
    await setFaults({ down: true });

    expect((await client.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await client.call('GET', '/stats')).status).toBe(200);
    expect((await client.call('GET', '/sms/messages')).status).toBe(200);
    expect((await client.call('GET', '/customers/42')).status).toBe(404);
  });

  test('when error_rate is 1 with status 500, then every provider call answers 500 without applying', async () => {
    await setFaults({ error_rate: 1, status: 500 });

    const put = await client.putCustomer('42', 'evt-1', { v: 1 });
    const sms = await sendSms();

    expect(put.status).toBe(500);
    expect(put.headers.get('x-simulated-fault')).toBe('error-rate');
    expect(sms.status).toBe(500);
    expect(await stats()).toMatchObject({ rejected_by_fault: 2, applied: 0, sms_sent: 0 });
  });

  test('when a faulted key is retried after the fault clears, then it is applied exactly once', async () => {
    await setFaults({ error_rate: 1 });
    expect((await client.putCustomer('42', 'evt-1', { v: 1 })).status).toBe(503);

    await client.call('DELETE', '/_faults');
    const retried = await client.putCustomer('42', 'evt-1', { v: 1 });

    expect(retried.body).toEqual({ id: '42', applied: true });
    expect(await stats()).toMatchObject({ applied: 1, rejected_by_fault: 1, duplicate_applications: 0 });
  });

  test('when latency_ms is 200, then a provider answer takes at least 200 ms and still applies', async () => {
    await setFaults({ latency_ms: 200 });

    const started = performance.now();
    const put = await client.putCustomer('42', 'evt-1', { v: 1 });
    const elapsed = performance.now() - started;

    expect(put.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect((await client.call('GET', '/customers/42')).body).toMatchObject({ applications: 1 });
  });

  test('when the client disconnects during the latency, then the request is never applied', async () => {
    await setFaults({ latency_ms: 300 });

    await expect(
      client.call('PUT', '/customers/42', {
        json: { v: 1 },
        headers: { authorization: 'Bearer k', 'idempotency-key': 'evt-1' },
        signal: AbortSignal.timeout(50),
      }),
    ).rejects.toThrow();
    await eventually('the abort to be seen', async () => (await stats()).aborted_by_client === 1);
    // Another delayed call outlives the first one's timer: had it survived, it would have applied by now.
    expect((await client.putCustomer('43', 'evt-2', { v: 1 })).status).toBe(200);

    expect((await client.call('GET', '/customers/42')).status).toBe(404);
    expect(await stats()).toMatchObject({ applied: 1, aborted_by_client: 1 });
  });

  test('when the faults are deleted or the state reset, then the defaults are back', async () => {
    await setFaults({ down: true, status: 502 });
    expect((await client.call('DELETE', '/_faults')).body).toEqual(DEFAULT_FAULT_KNOBS);

    await setFaults({ down: true });
    await client.call('POST', '/_reset');

    expect((await client.call('GET', '/_faults')).body).toEqual(DEFAULT_FAULT_KNOBS);
    expect((await sendSms()).status).toBe(202);
  });
});
