import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { SettingsStore, settingDefaultsFromEnv } from '../src/index.ts';

/** A settings collection whose reads the test answers by hand, and a Redis that records what is published. */
async function fakes() {
  const reads: { resolve: (document: unknown) => void; fail: (error: Error) => void }[] = [];
  const stored = new Map<string, unknown>();
  const connection = {
    listCollections: async () => [{ name: 'settings' }],
    collection: () => ({
      findOne: ({ _id }: { _id: string }) =>
        new Promise((resolve, reject) =>
          reads.push({
            resolve: (value) => resolve(value === undefined ? null : { _id, value }),
            fail: reject,
          }),
        ),
      updateOne: async ({ _id }: { _id: string }, { $set }: { $set: { value: unknown } }) => {
        stored.set(_id, $set.value);
      },
    }),
  };
  const listeners: ((channel: string, key: string) => void)[] = [];
  const subscriber = {
    status: 'ready',
    on: (_: string, listener: (channel: string, key: string) => void) => listeners.push(listener),
    off: () => undefined,
    subscribe: async () => undefined,
    unsubscribe: async () => undefined,
  };
  let now = 0;
  const store = new SettingsStore({
    connection: connection as unknown as Connection,
    redis: { publish: async () => 1 } as unknown as Redis,
    subscriber: subscriber as unknown as Redis,
    defaults: settingDefaultsFromEnv({}),
    cacheTtlMs: 10,
    now: () => now,
  });
  await store.start();
  return {
    store,
    reads,
    /** Steps the store's clock past the cached values' time. */
    pastTtl: () => {
      now += 20;
    },
    announce: (key: string) => listeners.forEach((listener) => listener('settings:changed', key)),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('settings store', () => {
  test('when a cached value is past its time, then it is served at once while one read refreshes it', async () => {
    const { store, reads, pastTtl } = await fakes();
    const first = store.get('USER_REQUIRED_FIELDS');
    reads.shift()!.resolve(['first_name']);
    expect(await first).toEqual(['first_name']);
    pastTtl();

    expect(await store.get('USER_REQUIRED_FIELDS')).toEqual(['first_name']);
    expect(await store.get('USER_REQUIRED_FIELDS')).toEqual(['first_name']);
    expect(reads).toHaveLength(1);
    reads.shift()!.resolve(['first_name', 'last_name']);
    await settle();

    expect(await store.get('USER_REQUIRED_FIELDS')).toEqual(['first_name', 'last_name']);
    expect(reads).toHaveLength(0);
  });

  test('when a change is announced while a read is in flight, then callers after it wait for a new read and the older value is not cached', async () => {
    const { store, reads, announce } = await fakes();
    const before = store.get('USER_REQUIRED_FIELDS');
    announce('USER_REQUIRED_FIELDS');
    const after = store.get('USER_REQUIRED_FIELDS');
    expect(reads).toHaveLength(2);

    reads[0]!.resolve(['first_name']);
    reads[1]!.resolve(['last_name']);

    expect(await before).toEqual(['first_name']);
    expect(await after).toEqual(['last_name']);
    expect(await store.get('USER_REQUIRED_FIELDS')).toEqual(['last_name']);
  });

  test('when the database cannot be read past the time, then the last value is kept', async () => {
    const { store, reads, pastTtl } = await fakes();
    const first = store.get('USER_REQUIRED_FIELDS');
    reads.shift()!.resolve(['first_name']);
    await first;
    pastTtl();

    expect(await store.get('USER_REQUIRED_FIELDS')).toEqual(['first_name']);
    reads.shift()!.fail(new Error('connection refused'));
    await settle();

    expect(await store.get('USER_REQUIRED_FIELDS')).toEqual(['first_name']);
    expect(reads).toHaveLength(1);
  });
});
