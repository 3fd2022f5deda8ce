import type { Redis } from 'ioredis';
import type { Session, Sessions } from '../domain/ports.ts';

const key = (sessionId: string) => `session:${sessionId}`;

/** Server-side sessions: the cookie holds only an opaque id; logout deletes the record. */
export class SessionStore implements Sessions {
  private readonly redis: Redis;
  private readonly ttlSeconds: number;

  constructor(redis: Redis, ttlSeconds: number) {
    this.redis = redis;
    this.ttlSeconds = ttlSeconds;
  }

  async save(sessionId: string, session: Session): Promise<void> {
    await this.redis.set(key(sessionId), JSON.stringify(session), 'EX', this.ttlSeconds);
  }

  async find(sessionId: string): Promise<Session | null> {
    const raw = await this.redis.get(key(sessionId));
    return raw ? (JSON.parse(raw) as Session) : null;
  }

  async delete(sessionId: string): Promise<void> {
    await this.redis.del(key(sessionId));
  }
}
