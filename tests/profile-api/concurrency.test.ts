import mongoose from 'mongoose';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

describe('profile-api: concurrent updates of one profile', () => {
  let harness: ProfileApiHarness;

  beforeAll(async () => {
    harness = await startProfileApiHarness('concurrency');
  });

  afterAll(async () => {
    await harness.stop();
  });

  test('when 20 PATCHes of one user race across two replicas, then none is lost and version and outbox grow by one each', async () => {
    const { client } = await harness.signUp();
    const replica = await harness.startReplica();
    const me = (await client.get('/users/profile/')).body.id as number;
    const users = mongoose.createConnection(harness.api.config.mongoUrl).collection('users');
    const before = (await users.findOne({ id: me }))!;

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => {
        const target = index % 2 === 0 ? client : client.withBaseUrl(replica.url);
        return target.patch('/users/profile/', { attributes: { [`key${index}`]: index } });
      }),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    const after = (await users.findOne({ id: me }))!;
    await users.conn.close();
    expect(after.version).toBe(before.version + 20);
    expect(after.outbox).toHaveLength(before.outbox.length + 20);
    // Each PATCH replaces attributes, so the last committed one wins whole; every event is distinct.
    const versions = (after.outbox as { profile_version: number }[]).map((event) => event.profile_version);
    expect(new Set(versions).size).toBe(20);
    expect(Math.max(...versions)).toBe(after.version);
    const changedKeys = (after.outbox as { profile: { attributes: Record<string, number> } }[]).map(
      (event) => Object.keys(event.profile.attributes)[0],
    );
    expect(new Set(changedKeys).size).toBe(20);
  }, 60_000);

  test('when two users claim the same phone number at the same moment, then exactly one gets it', async () => {
    const [first, second] = await Promise.all([harness.signUp(), harness.signUp()]);

    const answers = await Promise.all(
      [first.client, second.client].map((client) =>
        client.patch('/users/profile/', { phone: '+905339876543' }),
      ),
    );

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
    expect(answers.find((answer) => answer.status === 400)!.body).toEqual({
      phone: ['A user with this phone number already exists.'],
    });
  });
});
