import { once } from 'node:events';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { ensureCollections } from '@app/datastores';
import { isSettingKey, validateSetting, type SettingKey, type Settings } from './setting-schemas.ts';

const CHANGED_CHANNEL = 'settings:changed';
const COLLECTION = 'settings';

interface SettingDocument {
  _id: string;
  value: unknown;
  updated_at: Date;
}

interface CacheEntry {
  value: unknown;
  expiresAt: number;
}

export interface SettingsStoreOptions {
  connection: Connection;
  /** Publishes invalidations. */
  redis: Redis;
  /** A dedicated connection: a subscribed ioredis client can issue no other command. */
  subscriber: Redis;
  defaults: Settings;
  /** Upper bound on staleness should an invalidation message be missed. */
  cacheTtlMs?: number;
  /** The clock the TTL is read on (ms); Date.now unless a test steps its own. */
  now?: () => number;
}

export class SettingValidationError extends Error {
  readonly messages: string[];
  constructor(messages: string[]) {
    super(messages.join('; '));
    this.messages = messages;
  }
}

/**
 * Live settings: stored in MongoDB, cached per process, invalidated on every replica through
 * Redis pub/sub as soon as one replica writes, and re-read in the background after a short TTL
 * regardless.
 */
export class SettingsStore {
  private readonly cache = new Map<SettingKey, CacheEntry>();
  private readonly inflight = new Map<SettingKey, Promise<unknown>>();
  /** Changes seen per key (announced or made here), so a read older than a change is not cached. */
  private readonly generations = new Map<SettingKey, number>();
  private readonly options: Required<SettingsStoreOptions>;

  constructor(options: SettingsStoreOptions) {
    this.options = { cacheTtlMs: 1_000, now: Date.now, ...options };
  }

  /** Creates the settings collection if missing (before traffic), then follows invalidations. */
  async start(): Promise<void> {
    const { connection, subscriber } = this.options;
    await ensureCollections(connection, [COLLECTION]);
    subscriber.on('message', this.onMessage);
    // Not before the connection is ready: ioredis sends SUBSCRIBE during its handshake, and its own
    // ready check (INFO) is then refused in subscriber mode, so the connection fails and reconnects.
    if (subscriber.status !== 'ready') await once(subscriber, 'ready');
    await subscriber.subscribe(CHANGED_CHANNEL);
  }

  async stop(): Promise<void> {
    const { subscriber } = this.options;
    subscriber.off('message', this.onMessage);
    if (subscriber.status === 'ready') await subscriber.unsubscribe(CHANGED_CHANNEL);
  }

  /**
   * Past its time a cached value is still served while one read refreshes it in the background, so
   * a caller that has a value never waits on the database (per event in loyalty-sync, per request
   * in profile-api). A change is announced and drops the value at once; the time only bounds what
   * a lost announcement leaves stale. While the database cannot be read, the last value is kept.
   */
  async get<K extends SettingKey>(key: K): Promise<Settings[K]> {
    const cached = this.cache.get(key);
    if (!cached) return (await this.refresh(key)) as Settings[K];
    if (cached.expiresAt <= this.options.now()) this.refresh(key).catch(() => undefined);
    return cached.value as Settings[K];
  }

  /** One read per key at a time; one started before a change never joins a call made after it. */
  private refresh(key: SettingKey): Promise<unknown> {
    const inflight = this.inflight.get(key);
    if (inflight) return inflight;
    const pending: Promise<unknown> = this.load(key, this.generation(key)).finally(() => {
      if (this.inflight.get(key) === pending) this.inflight.delete(key);
    });
    this.inflight.set(key, pending);
    return pending;
  }

  private generation(key: SettingKey): number {
    return this.generations.get(key) ?? 0;
  }

  private invalidate(key: SettingKey): void {
    this.generations.set(key, this.generation(key) + 1);
    this.cache.delete(key);
    this.inflight.delete(key);
  }

  async set<K extends SettingKey>(key: K, value: unknown): Promise<Settings[K]> {
    const result = validateSetting(key, value);
    if (!result.ok) throw new SettingValidationError(result.messages);
    await this.collection().updateOne(
      { _id: key },
      { $set: { value: result.value, updated_at: new Date() } },
      { upsert: true },
    );
    this.invalidate(key);
    await this.options.redis.publish(CHANGED_CHANNEL, key);
    return result.value;
  }

  private async load<K extends SettingKey>(key: K, generation: number): Promise<Settings[K]> {
    const document = await this.collection().findOne({ _id: key });
    let value: Settings[K] = this.options.defaults[key];
    if (document) {
      const stored = validateSetting(key, document.value);
      // A stored value that no longer validates (schema tightened) falls back to the default.
      if (stored.ok) value = stored.value;
    }
    // A read that began before a change may hold the old value: it answers its callers, no more.
    if (this.generation(key) === generation) {
      this.cache.set(key, { value, expiresAt: this.options.now() + this.options.cacheTtlMs });
    }
    return value;
  }

  private collection() {
    return this.options.connection.collection<SettingDocument>(COLLECTION);
  }

  private readonly onMessage = (channel: string, key: string) => {
    if (channel === CHANGED_CHANNEL && isSettingKey(key)) this.invalidate(key);
  };
}
