import { startSimClient, type SimClient } from './support/sim-client.ts';

describe('operations endpoints', () => {
  let client: SimClient;

  beforeAll(async () => {
    client = await startSimClient();
  });

  afterAll(async () => {
    await client.sim.close();
  });

  test('when probed, then /healthz and /readyz answer 200', async () => {
    expect((await client.call('GET', '/healthz')).status).toBe(200);
    const ready = await client.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: {} });
  });

  test('when an SMS was accepted, then /metrics reports it among the simulator counters', async () => {
    await client.call('POST', '/sms', { json: { to: '+905551112233', text: 'hello' } });

    const response = await fetch(`${client.sim.url}/metrics`);
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text).toMatch(/^provider_sim_stats\{stat="sms_sent",service="provider-sim"\} 1$/m);
  });
});
