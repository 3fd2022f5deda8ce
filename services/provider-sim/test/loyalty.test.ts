import type { CustomerView } from '../src/domain/loyalty-ledger.ts';
import { startSimClient, type SimClient } from './support/sim-client.ts';

describe('loyalty card API', () => {
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

  const customer = async (id: string) => {
    const res = await client.call('GET', `/customers/${id}`);
    return { status: res.status, body: res.body as unknown as CustomerView };
  };

  test('when a profile is PUT with a new idempotency key, then it is applied and becomes current', async () => {
    const put = await client.putCustomer('42', 'evt-1', { first_name: 'Ada', sms_allowed: true });

    expect(put.status).toBe(200);
    expect(put.body).toEqual({ id: '42', applied: true });
    const found = await customer('42');
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      id: '42',
      current: { first_name: 'Ada', sms_allowed: true },
      history: [
        {
          idempotency_key: 'evt-1',
          payload: { first_name: 'Ada', sms_allowed: true },
          applied_at: expect.any(String),
        },
      ],
      applications: 1,
      replayed: 0,
    });
  });

  test('when the same idempotency key is sent again, then it is not applied twice and the replay is counted', async () => {
    await client.putCustomer('42', 'evt-1', { first_name: 'Ada' });

    const repeat = await client.putCustomer('42', 'evt-1', { first_name: 'Changed' });

    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual({ id: '42', applied: false, replayed: true });
    const found = await customer('42');
    expect(found.body.current).toEqual({ first_name: 'Ada' });
    expect(found.body.applications).toBe(1);
    const stats = await client.call('GET', '/stats');
    expect(stats.body).toMatchObject({
      customers: 1,
      applied: 1,
      replayed: 1,
      max_applications_per_key: 1,
      duplicate_applications: 0,
    });
  });

  test('when successive keys update a customer, then the last payload is current and history keeps order', async () => {
    await client.putCustomer('7', 'evt-1', { v: 1 });
    await client.putCustomer('7', 'evt-2', { v: 2 });

    const found = await customer('7');

    expect(found.body.current).toEqual({ v: 2 });
    expect(found.body.history.map((entry) => entry.idempotency_key)).toEqual(['evt-1', 'evt-2']);
    expect(found.body.applications).toBe(2);
  });

  test('when a key already used for one customer is sent for another, then 422 and nothing is applied', async () => {
    await client.putCustomer('1', 'evt-1', { v: 1 });

    const reused = await client.putCustomer('2', 'evt-1', { v: 1 });

    expect(reused.status).toBe(422);
    expect(reused.body).toEqual({ detail: expect.stringContaining('Idempotency-Key') });
    expect((await customer('2')).status).toBe(404);
  });

  test('when the Idempotency-Key header is missing, then 400 with the documented detail', async () => {
    const put = await client.putCustomer('42', undefined, { first_name: 'Ada' });

    expect(put.status).toBe(400);
    expect(put.body).toEqual({ detail: 'Idempotency-Key header is required.' });
    expect((await customer('42')).status).toBe(404);
  });

  test('when the body is not a JSON object, then 400 and nothing is applied', async () => {
    for (const body of [[1, 2], 'text', 42, null]) {
      const put = await client.putCustomer('42', `evt-${JSON.stringify(body)}`, body);

      expect(put.status).toBe(400);
      expect(put.body).toEqual({ non_field_errors: ['Request body must be a JSON object.'] });
    }
    expect((await customer('42')).status).toBe(404);
  });

  test('when the body is malformed JSON, then 400 with a detail, not 500', async () => {
    const put = await client.call('PUT', '/customers/42', {
      raw: '{"first_name": ',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k', 'idempotency-key': 'evt-1' },
    });

    expect(put.status).toBe(400);
    expect(put.body).toEqual({ detail: 'Malformed JSON body.' });
  });

  test('when the Authorization header is missing, then 401', async () => {
    const put = await client.putCustomer('42', 'evt-1', { v: 1 }, { authorization: '' });

    expect(put.status).toBe(401);
    expect(put.headers.get('www-authenticate')).toBe('Bearer');
  });

  test('when an unknown customer is read, then 404 with a detail', async () => {
    const found = await customer('nobody');

    expect(found.status).toBe(404);
    expect(found.body).toEqual({ detail: 'Not found.' });
  });

  test('when the state is reset, then customers and counters are gone', async () => {
    await client.putCustomer('42', 'evt-1', { v: 1 });

    const reset = await client.call('POST', '/_reset');

    expect(reset.status).toBe(200);
    expect((await customer('42')).status).toBe(404);
    expect((await client.call('GET', '/stats')).body).toEqual({
      customers: 0,
      applied: 0,
      replayed: 0,
      rejected_by_fault: 0,
      aborted_by_client: 0,
      sms_sent: 0,
      max_applications_per_key: 0,
      duplicate_applications: 0,
    });
  });
});

describe('loyalty card API with a configured key', () => {
  let client: SimClient;

  beforeAll(async () => {
    client = await startSimClient({ loyaltyApiKey: 'right-key' });
  });

  afterAll(async () => {
    await client.sim.close();
  });

  test('when the bearer key does not match, then 401 Invalid API key and nothing is applied', async () => {
    const put = await client.putCustomer('42', 'evt-1', { v: 1 }, { authorization: 'Bearer wrong-key' });

    expect(put.status).toBe(401);
    expect(put.body).toEqual({ detail: 'Invalid API key.' });
    expect((await client.call('GET', '/customers/42')).status).toBe(404);
  });

  test('when the bearer key matches, then the update is applied', async () => {
    const put = await client.putCustomer('42', 'evt-1', { v: 1 }, { authorization: 'Bearer right-key' });

    expect(put.status).toBe(200);
    expect(put.body).toEqual({ id: '42', applied: true });
  });
});
