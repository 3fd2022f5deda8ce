import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type mongoose from 'mongoose';
import type { ProfileApi } from '@app/profile-api';
import type { ApiClient } from '../support/api-client.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

interface StoredUser {
  _id: string;
  version: number;
  last_name: string;
}

// Reads are served from a version-stamped copy of the profile in Redis. These tests hold the rule
// that makes that safe: once a write is answered, no replica ever serves the profile from before it.
describe('profile-api: profile reads from the Redis copy', () => {
  let harness: ProfileApiHarness;
  let replica: ProfileApi;
  let users: mongoose.Collection<StoredUser>;

  beforeAll(async () => {
    harness = await startProfileApiHarness('profile-cache', {
      PROFILE_EVENTS_TOPIC: `profile.events.cache.${randomUUID()}`,
    });
    replica = await harness.startReplica();
    users = (await harness.database()).collection<StoredUser>('users');
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const other = (client: ApiClient) => client.withBaseUrl(replica.url);

  test('when a profile is read and changed, then its copy in Redis holds the profile and never the password hash', async () => {
    const { client } = await harness.signUp();
    const me = (await client.get('/users/profile/')).body.id as number;
    await client.patch('/users/profile/', { first_name: 'Copied' });
    const redis = new Redis(harness.api.config.redisUrl);
    try {
      const entry = await redis.get(`profile:${me}`);

      expect(entry).toContain('"first_name":"Copied"');
      expect(entry).not.toContain('password');
      expect(entry).not.toContain('scrypt');
    } finally {
      redis.disconnect();
    }
  });

  test('when writes on one replica race with reads on both, then every read after a write is answered shows that write or a newer one', async () => {
    const { client } = await harness.signUp();
    // Readers keep filling both replicas' view of the copy from whatever they read, all along.
    let reading = true;
    const readers = [client, other(client)].map(async (reader) => {
      let reads = 0;
      while (reading) {
        expect((await reader.get('/users/profile/')).status).toBe(200);
        reads += 1;
      }
      return reads;
    });

    const stale: string[] = [];
    for (let round = 0; round < 40; round += 1) {
      const [writer, checker] = round % 2 === 0 ? [client, other(client)] : [other(client), client];
      const first_name = `Round${round}`;
      const written = await writer.patch('/users/profile/', { first_name });
      expect(written.status).toBe(200);
      const [sameReplica, otherReplica] = await Promise.all([
        writer.get('/users/profile/'),
        checker.get('/users/profile/'),
      ]);
      for (const read of [sameReplica, otherReplica]) {
        if (read.body.first_name !== first_name)
          stale.push(`round ${round}: ${String(read.body.first_name)}`);
      }
    }
    reading = false;
    const reads = await Promise.all(readers);

    expect(stale).toEqual([]);
    expect(Math.min(...reads)).toBeGreaterThan(0);
  }, 60_000);

  test('when the database holds a newer version than the copy, then a write still commits on top of the newer one and nothing is lost', async () => {
    const { client } = await harness.signUp();
    const me = (await client.get('/users/profile/')).body.id as number; // the copy now holds this version
    // A writer that bypasses this service's copy (another tool, a restore): the database moves on.
    await users.updateOne({ _id: String(me) }, { $set: { last_name: 'Changed' }, $inc: { version: 1 } });

    const written = await other(client).patch('/users/profile/', { first_name: 'Kept' });

    expect(written.status).toBe(200);
    expect(written.body).toMatchObject({ first_name: 'Kept', last_name: 'Changed' });
    expect((await client.get('/users/profile/')).body).toMatchObject({
      first_name: 'Kept',
      last_name: 'Changed',
    });
    const stored = (await users.findOne({ _id: String(me) }))!;
    expect(stored).toMatchObject({ last_name: 'Changed' });
  });
});
