// Every Redis store of the services, run through ioredis' Cluster client against a real three-master
// Redis Cluster: a script or transaction whose keys sit in different hash slots fails there with
// CROSSSLOT (ioredis refuses it first; a key a script touches without declaring it: "non local key"), so these tests
// fail the day one is written. The controls first show the cluster does refuse such commands.
import { Cluster, type Redis } from 'ioredis';
import { startRedisCluster, type RedisClusterContainer } from '@app/testkit';
import { AppliedVersionStore } from '../../services/loyalty-sync/src/data-access/applied-version-store.ts';
import { ProfileCache } from '../../services/profile-api/src/data-access/profile-cache.ts';
import { RedisLease } from '../../services/profile-api/src/data-access/redis-lease.ts';
import { SessionStore } from '../../services/profile-api/src/data-access/session-store.ts';
import { ThrottleStore } from '../../services/profile-api/src/data-access/throttle-store.ts';
import { VerificationStore } from '../../services/profile-api/src/data-access/verification-store.ts';
import type { Profile } from '../../services/profile-api/src/domain/user.ts';

/** Users whose keys spread over every master (checked below). */
const USER_IDS = Array.from({ length: 12 }, (_, index) => 1 + index * 7);

describe('Redis Cluster: every multi-command script and transaction stays in one hash slot', () => {
  let container: RedisClusterContainer;
  let cluster: Cluster;
  let redis: Redis;

  beforeAll(async () => {
    container = await startRedisCluster();
    cluster = new Cluster(container.nodes, {
      enableAutoPipelining: true,
      redisOptions: { maxRetriesPerRequest: 3 },
    });
    await cluster.ping();
    // The stores are typed for a single-node client; Cluster answers the same commands.
    redis = cluster as unknown as Redis;
  }, 180_000);

  afterAll(async () => {
    await cluster?.quit();
    await container?.stop();
  });

  const slotOf = async (key: string) => Number(await cluster.cluster('KEYSLOT', key));

  test('when a script names two keys of different slots, then the cluster refuses it (control)', async () => {
    expect(await slotOf('profile:1')).not.toBe(await slotOf('profile:8'));
    // ioredis' Cluster client refuses it before sending ("should belong to the same slot"); the
    // server would answer CROSSSLOT.
    await expect(
      cluster.eval("return redis.call('GET', KEYS[2])", 2, 'profile:1', 'profile:8'),
    ).rejects.toThrow(/CROSSSLOT|same slot/);
  });

  test('when a transaction spans two slots, then the cluster refuses it (control)', async () => {
    await expect(cluster.multi().set('profile:1', 'a').set('profile:8', 'b').exec()).rejects.toThrow(
      /CROSSSLOT|same slot/,
    );
  });

  test('when a script touches a key it did not declare, in another slot, then the cluster refuses it (control)', async () => {
    await expect(
      cluster.eval("redis.call('GET', KEYS[1]); return redis.call('GET', 'profile:8')", 1, 'profile:1'),
    ).rejects.toThrow(/non local key|different slot|CROSSSLOT/i);
  });

  test('when the test users are spread over the masters, then their keys cover more than one slot owner', async () => {
    const nodes = cluster.nodes('master');
    expect(nodes).toHaveLength(3);
    const slots = new Set(await Promise.all(USER_IDS.map((id) => slotOf(`profile:${id}`))));
    expect(slots.size).toBe(USER_IDS.length);
  });

  test("when profile-api's copy script and loyalty-sync's applied-version script run on the cluster, then they keep their guarantees", async () => {
    const cache = new ProfileCache(redis, 60);
    const applied = new AppliedVersionStore(redis, { consumerGroup: 'loyalty-sync', retentionMs: 60_000 });
    for (const id of USER_IDS) {
      const profile = { id, version: 3, email: `u${id}@example.com`, date_joined: new Date(0) } as Profile;
      expect(await cache.put(profile)).toBe(true);
      expect(await cache.put({ ...profile, version: 2 })).toBe(false);
      expect((await cache.get(id))?.version).toBe(3);
      await cache.forget(id);
      expect(await cache.get(id)).toBeNull();

      await applied.recordApplied({ userId: id, profileVersion: 5, eventId: `e-${id}-5` });
      await applied.recordApplied({ userId: id, profileVersion: 4, eventId: `e-${id}-4` });
      expect(await applied.lastAppliedVersion(id)).toBe(5);
    }
  });

  test('when phone codes are saved, replaced, checked, restored and dropped on the cluster, then each step works', async () => {
    const store = new VerificationStore(redis);
    for (const id of USER_IDS) {
      const pending = { codeHash: 'h1', phone: '+905551112233', change: '{}', attempts: 0 };
      // MULTI/EXEC over the pending key, and SET NX on the resend key: one key per command.
      await store.savePending(id, pending, 60);
      expect(await store.claimSendSlot(id, 60)).toBe(0);
      expect(await store.claimSendSlot(id, 60)).toBeGreaterThan(0);
      expect(await store.replaceCode(id, 'h2', 60)).toBe(true);
      expect(await store.checkCode(id, 'wrong', 5)).toEqual({ outcome: 'wrong', attemptsLeft: 4 });
      const accepted = await store.checkCode(id, 'h2', 5);
      expect(accepted).toMatchObject({ outcome: 'accepted', pending: { codeHash: 'h2', attempts: 1 } });
      await store.restorePending(id, { ...pending, codeHash: 'h2' }, 30_000);
      expect(await store.findPending(id)).toMatchObject({ codeHash: 'h2' });
      await store.dropPending(id);
      await store.releaseSendSlot(id);
      expect(await store.findPending(id)).toBeNull();
    }
  });

  test('when sessions, throttle counters and relay leases are used on the cluster, then they work', async () => {
    const sessions = new SessionStore(redis, 60);
    const throttle = new ThrottleStore(redis);
    const lease = new RedisLease(redis, { ttlMs: 5_000, waitMs: 5_000 });
    for (const id of USER_IDS) {
      const session = { userId: id, csrfToken: `t${id}`, createdAt: new Date(0).toISOString() };
      await sessions.save(`s${id}`, session);
      expect(await sessions.find(`s${id}`)).toEqual(session);
      await sessions.delete(`s${id}`);
      expect(await sessions.find(`s${id}`)).toBeNull();

      await throttle.hit(`profile-update:${id}`, 10, 60_000);
      expect(await throttle.hit(`profile-update:${id}`, 10, 60_000)).toMatchObject({ allowed: true });
      await throttle.clear(`profile-update:${id}`);

      expect(await lease.withLease(`outbox:${id}`, async () => id)).toBe(id);
    }
  });
});
