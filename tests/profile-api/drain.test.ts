import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

/** Long enough that the checks below run inside it even on a loaded machine. */
const DRAIN_DELAY_MS = 3_000;

describe('profile-api: draining on shutdown', () => {
  let harness: ProfileApiHarness;

  beforeAll(async () => {
    harness = await startProfileApiHarness('drain');
  });

  afterAll(async () => {
    await harness?.stop();
  });

  test('when a replica with DRAIN_DELAY_MS begins to shut down, then /readyz answers 503 at once, requests are still served on connections it then closes, and it stops accepting only after the delay', async () => {
    const replica = await harness.startReplica({ DRAIN_DELAY_MS: String(DRAIN_DELAY_MS) });
    const { client } = await harness.signUp();
    const onReplica = client.withBaseUrl(replica.url);
    expect((await fetch(`${replica.url}/readyz`)).status).toBe(200);

    const began = Date.now();
    const stopping = replica.stop();
    const ready = await fetch(`${replica.url}/readyz`);
    const update = await onReplica.patch('/users/profile/', { first_name: 'Draining' });
    const servedAfterMs = Date.now() - began;
    await stopping;
    const stoppedAfterMs = Date.now() - began;

    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'not ready',
      checks: { mongo: true, redis: true, serving: false },
    });
    expect(update.status).toBe(200);
    // Served while draining: the connection is not kept for another request.
    expect(update.headers.get('connection')).toBe('close');
    expect(servedAfterMs).toBeLessThan(DRAIN_DELAY_MS);
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(DRAIN_DELAY_MS);
    await expect(fetch(`${replica.url}/readyz`)).rejects.toThrow();
  });
});
