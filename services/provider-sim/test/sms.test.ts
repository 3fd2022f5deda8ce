import type { SmsRecord } from '../src/domain/sms-gateway.ts';
import { startSimClient, type SimClient } from './support/sim-client.ts';

describe('SMS gateway', () => {
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

  const send = (to: string, text: string) => client.call('POST', '/sms', { json: { to, text } });
  const messages = (res: { body: Record<string, unknown> }) => res.body.messages as SmsRecord[];

  test('when an SMS is sent, then it is queued with an id and listed for its number', async () => {
    const sent = await send('+905551112233', 'Your code is 1234');

    expect(sent.status).toBe(202);
    expect(sent.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued' });
    const listed = await client.call('GET', '/sms/messages?to=%2B905551112233');
    expect(listed.status).toBe(200);
    expect(messages(listed)).toEqual([
      { id: sent.body.id, to: '+905551112233', text: 'Your code is 1234', received_at: expect.any(String) },
    ]);
  });

  test('when messages go to several numbers, then the listing filters by number, newest last', async () => {
    await send('+905551112233', 'first');
    await send('+905559998877', 'other');
    await send('+905551112233', 'second');

    const forOne = await client.call('GET', '/sms/messages?to=%2B905551112233');
    expect(messages(forOne).map((m) => m.text)).toEqual(['first', 'second']);
    const all = await client.call('GET', '/sms/messages');
    expect(messages(all).map((m) => m.text)).toEqual(['first', 'other', 'second']);
    const stats = await client.call('GET', '/stats');
    expect(stats.body.sms_sent).toBe(3);
  });

  test('when the number arrives with an unencoded +, then the listing still finds it', async () => {
    await send('+905551112233', 'hello');

    const listed = await client.call('GET', '/sms/messages?to=+905551112233');

    expect(listed.status).toBe(200);
    expect(messages(listed)).toHaveLength(1);
  });

  test('when the listing is asked for a malformed number, then 400 names the field', async () => {
    const listed = await client.call('GET', '/sms/messages?to=abc');

    expect(listed.status).toBe(400);
    expect(listed.body).toEqual({ to: [expect.stringContaining('E.164')] });
  });

  test('when the body is invalid, then 400 lists every bad field and nothing is recorded', async () => {
    const sent = await client.call('POST', '/sms', { json: { to: '05551112233', text: 'x'.repeat(1001) } });

    expect(sent.status).toBe(400);
    expect(sent.body).toEqual({ to: [expect.stringContaining('E.164')], text: [expect.any(String)] });
    expect(messages(await client.call('GET', '/sms/messages'))).toEqual([]);
  });

  test('when the body is malformed JSON, then 400 with a detail, not 500', async () => {
    const sent = await client.call('POST', '/sms', {
      raw: '{"to": "+905551112233",',
      headers: { 'content-type': 'application/json' },
    });

    expect(sent.status).toBe(400);
    expect(sent.body).toEqual({ detail: 'Malformed JSON body.' });
  });
});
