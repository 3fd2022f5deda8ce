import type { CommitResult, CreateUserResult, NewUser, ProfileCommit, Users } from '../domain/ports.ts';
import type { Profile, User } from '../domain/user.ts';
import type { ProfileCache } from './profile-cache.ts';

/**
 * Users with profile reads served from Redis. The database stays the source of truth:
 *
 * - A committed change is written to the cache before the commit is reported, so once a client has
 *   its answer, every replica reads that version or a newer one.
 * - The cache only ever moves forward (a write carries its version; an older one is refused), so a
 *   read that filled it from a document a commit has since replaced cannot hide that commit.
 * - A commit that lost to another writer drops the entry, so the caller's next read comes from the
 *   database and never retries against a stale copy.
 * - If the cache cannot be updated after a commit, the entry is dropped; if that fails too the
 *   error reaches the client (the change is committed; its retry is a no-op that refreshes the copy).
 */
export class CachedUsers implements Users {
  private readonly users: Users;
  private readonly cache: ProfileCache;

  constructor(users: Users, cache: ProfileCache) {
    this.users = users;
    this.cache = cache;
  }

  async findById(id: number): Promise<Profile | null> {
    const cached = await this.cache.get(id);
    if (cached) return cached;
    const stored = await this.users.findById(id);
    if (stored) await this.cache.put(stored);
    return stored;
  }

  idsAfter(after: number | undefined, limit: number): Promise<number[]> {
    return this.users.idsAfter(after, limit);
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findByEmail(email);
  }

  isPhoneHeldByAnother(phone: string, userId: number): Promise<boolean> {
    return this.users.isPhoneHeldByAnother(phone, userId);
  }

  create(user: NewUser): Promise<CreateUserResult> {
    return this.users.create(user);
  }

  replacePasswordHash(userId: number, expected: string, replacement: string): Promise<boolean> {
    return this.users.replacePasswordHash(userId, expected, replacement);
  }

  async commitChange(commit: ProfileCommit): Promise<CommitResult> {
    const result = await this.users.commitChange(commit);
    if (result.outcome === 'committed') {
      await this.cache.put(result.user).catch(() => this.cache.forget(commit.userId));
    } else if (result.outcome === 'conflict') {
      await this.cache.forget(commit.userId);
    }
    return result;
  }
}
