import type { Redis } from 'ioredis';
import type { Profile } from '../domain/user.ts';

const key = (userId: number) => `profile:${userId}`;

/**
 * Writes `version|json` unless the stored entry already holds this version or a newer one, so a
 * late writer (a read that filled the cache from an older document, or a commit answered late)
 * never puts an older profile over a newer one. One key per script: fine for Redis Cluster.
 */
const PUT_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local stored = tonumber(string.match(current, '^(%d+)|'))
  if stored and stored >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1
`;

interface CacheCommands {
  profilePutIfNewer(key: string, version: number, json: string, ttlSeconds: number): Promise<number>;
}

function decodeProfileEntry(entry: string | null): Profile | null {
  if (!entry) return null;
  const bar = entry.indexOf('|');
  if (bar < 0) return null;
  const profile = JSON.parse(entry.slice(bar + 1)) as Omit<Profile, 'date_joined'> & { date_joined: string };
  // Copies written before phone_verified existed lack it: unverified, as in the database.
  return {
    ...profile,
    date_joined: new Date(profile.date_joined),
    phone_verified: profile.phone_verified === true,
  };
}

/** Version-stamped copies of profiles in Redis, so reading one needs no database round trip. */
export class ProfileCache {
  private readonly redis: Redis & CacheCommands;
  private readonly ttlSeconds: number;

  constructor(redis: Redis, ttlSeconds: number) {
    redis.defineCommand('profilePutIfNewer', { numberOfKeys: 1, lua: PUT_IF_NEWER });
    this.redis = redis as Redis & CacheCommands;
    this.ttlSeconds = ttlSeconds;
  }

  async get(userId: number): Promise<Profile | null> {
    return decodeProfileEntry(await this.redis.get(key(userId)));
  }

  /** Resolves true when stored, false when the cache already held this version or a newer one. */
  async put(user: Profile): Promise<boolean> {
    // Credentials never go into the copy, whatever the caller read.
    const { password_hash: _credentials, ...profile } = user as Profile & { password_hash?: string };
    const { id, version } = profile;
    return (
      (await this.redis.profilePutIfNewer(key(id), version, JSON.stringify(profile), this.ttlSeconds)) === 1
    );
  }

  async forget(userId: number): Promise<void> {
    await this.redis.del(key(userId));
  }
}
