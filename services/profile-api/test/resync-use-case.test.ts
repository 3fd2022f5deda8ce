import { WRITABLE_PROFILE_FIELDS } from '@app/events';
import type { CommitResult, ProfileCommit, Users } from '../src/domain/ports.ts';
import { MAX_COMMIT_ATTEMPTS } from '../src/domain/profile-use-case.ts';
import { ResyncUseCase, type UserResync } from '../src/domain/resync-use-case.ts';
import type { User } from '../src/domain/user.ts';

function user(id: number, version = 3): User {
  return {
    id,
    email: `user${id}@example.com`,
    password_hash: 'x',
    first_name: 'Ada',
    last_name: 'Lovelace',
    email_allowed: true,
    sms_allowed: false,
    whatsapp_allowed: false,
    call_allowed: null,
    phone: '+905321234567',
    phone_verified: true,
    date_of_birth: null,
    gender: null,
    language_code: 'en',
    attributes: {},
    avatar: null,
    date_joined: new Date('2026-01-01T00:00:00Z'),
    version,
  };
}

/** Users in memory, paged in string order as the store pages `_id`s. */
class InMemoryUsers implements Pick<Users, 'findById' | 'commitChange' | 'idsAfter'> {
  readonly byId = new Map<number, User>();
  readonly commits: ProfileCommit[] = [];
  interfere: (commit: ProfileCommit) => CommitResult | undefined = () => undefined;

  constructor(users: User[]) {
    for (const each of users) this.byId.set(each.id, each);
  }
  async findById(id: number) {
    const found = this.byId.get(id);
    return found ? { ...found } : null;
  }
  async idsAfter(after: number | undefined, limit: number) {
    return [...this.byId.keys()]
      .map(String)
      .sort()
      .filter((key) => after === undefined || key > String(after))
      .slice(0, limit)
      .map(Number);
  }
  async commitChange(commit: ProfileCommit): Promise<CommitResult> {
    this.commits.push(commit);
    const decided = this.interfere(commit);
    if (decided) return decided;
    const current = this.byId.get(commit.userId)!;
    if (current.version !== commit.expectedVersion) return { outcome: 'conflict' };
    this.byId.set(commit.userId, { ...current, ...commit.set, version: current.version + 1 });
    return { outcome: 'committed', user: { ...this.byId.get(commit.userId)! } };
  }
}

function resyncOf(users: InMemoryUsers, published = 1) {
  const flushed: number[] = [];
  const resync = new ResyncUseCase({
    users,
    publishOutbox: async (userId) => {
      flushed.push(userId);
      return published;
    },
    backoff: async () => undefined,
  });
  return { resync, flushed };
}

describe('ResyncUseCase', () => {
  test('when a user is resynced, then one resync event with the current profile and every field is committed at the next version, then published', async () => {
    const users = new InMemoryUsers([user(7)]);
    const { resync, flushed } = resyncOf(users);

    const result = await resync.resyncUser(7);

    expect(result).toMatchObject({ outcome: 'published', event: { profile_version: 4 } });
    expect(users.commits).toHaveLength(1);
    const [commit] = users.commits;
    expect(commit).toMatchObject({ userId: 7, expectedVersion: 3, set: {} });
    expect(commit!.phoneClaim).toBeUndefined();
    expect(commit!.event).toMatchObject({
      user_id: 7,
      profile_version: 4,
      source: 'resync',
      changed_fields: [...WRITABLE_PROFILE_FIELDS],
      profile: { id: 7, first_name: 'Ada', phone: '+905321234567', email_allowed: true },
    });
    expect(users.byId.get(7)!.version).toBe(4);
    expect(flushed).toEqual([7]);
  });

  test('when another writer commits first, then the resync re-reads and carries the newer profile', async () => {
    const users = new InMemoryUsers([user(7)]);
    users.interfere = () => {
      if (users.commits.length === 1) users.byId.set(7, { ...user(7, 4), first_name: 'Augusta' });
      return undefined;
    };
    const { resync } = resyncOf(users);

    const result = await resync.resyncUser(7);

    expect(users.commits.map((commit) => commit.expectedVersion)).toEqual([3, 4]);
    expect(result).toMatchObject({ event: { profile_version: 5, profile: { first_name: 'Augusta' } } });
  });

  test.each<[string, CommitResult | undefined, number, UserResync['outcome'], string | undefined]>([
    ['the outbox is full', { outcome: 'outbox-full' }, 1, 'failed', 'outbox-full'],
    ['every attempt conflicts', { outcome: 'conflict' }, MAX_COMMIT_ATTEMPTS, 'failed', 'update-contention'],
    ['Kafka is away (nothing published now)', undefined, 1, 'committed', undefined],
  ])('when %s, then the outcome says so', async (_case, decided, attempts, outcome, reason) => {
    const users = new InMemoryUsers([user(7)]);
    users.interfere = () => decided;
    const { resync } = resyncOf(users, 0);

    const result = await resync.resyncUser(7);

    expect(result.outcome).toBe(outcome);
    if (reason) expect(result).toMatchObject({ reason });
    expect(users.commits).toHaveLength(attempts);
  });

  test('when the user does not exist, then not-found and nothing committed', async () => {
    const users = new InMemoryUsers([]);
    expect(await resyncOf(users).resync.resyncUser(7)).toEqual({ outcome: 'not-found' });
    expect(users.commits).toHaveLength(0);
  });

  test('when every user is resynced, then each is visited once across pages and counted, a failure not stopping the rest', async () => {
    const ids = [1, 2, 3, 10, 11, 20, 100];
    const users = new InMemoryUsers(ids.map((id) => user(id)));
    users.interfere = (commit) => (commit.userId === 11 ? { outcome: 'outbox-full' } : undefined);
    const { resync, flushed } = resyncOf(users);
    const seen: number[] = [];

    const counts = await resync.resyncAll({
      concurrency: 2,
      pageSize: 3,
      onUser: (userId) => seen.push(userId),
    });

    expect(seen.sort((a, b) => a - b)).toEqual(ids);
    expect(counts).toEqual({ users: 7, published: 6, committed: 0, notFound: 0, failed: 1 });
    expect(flushed).toHaveLength(6);
  });
});
