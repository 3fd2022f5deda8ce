import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

describe('profile-api: more writes than it admits', () => {
  let harness: ProfileApiHarness;

  beforeAll(async () => {
    // One write at a time and no waiting: any overlap is more than this process admits.
    harness = await startProfileApiHarness('overload', {
      WRITE_CONCURRENCY: '1',
      WRITE_QUEUE_MAX_WAIT_MS: '1',
    });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  test('when writes arrive faster than they are admitted, then the excess gets a quick 503 with Retry-After and every admitted one is committed', async () => {
    const { client } = await harness.signUp();
    const me = (await client.get('/users/profile/')).body.id as number;
    const users = (await harness.database()).collection<{ _id: string; version: number }>('users');
    const before = (await users.findOne({ _id: String(me) }))!;

    const [writes, reads] = await Promise.all([
      Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          client.patch('/users/profile/', { attributes: { [`key${index}`]: index } }),
        ),
      ),
      Promise.all(Array.from({ length: 5 }, () => client.get('/users/profile/'))),
    ]);

    const refused = writes.filter((response) => response.status === 503);
    const committed = writes.filter((response) => response.status === 200);
    expect(refused.length + committed.length).toBe(20);
    expect(refused.length).toBeGreaterThan(0);
    expect(committed.length).toBeGreaterThan(0);
    for (const response of refused) {
      expect(response.body).toEqual({ detail: 'The service is busy. Try again shortly.' });
      expect(response.headers.get('retry-after')).toBe('1');
    }
    // Reads are not queued behind writes.
    expect(reads.map((response) => response.status)).toEqual(Array(5).fill(200));
    const after = (await users.findOne({ _id: String(me) }))!;
    await users.conn.close();
    expect(after.version).toBe(before.version + committed.length);

    // Once the burst is over, the next write is admitted.
    expect((await client.patch('/users/profile/', { first_name: 'Calm' })).status).toBe(200);
  });
});
