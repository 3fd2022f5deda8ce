import { AppError } from '@app/service-kit';
import type { Settings } from '@app/settings';
import type { Avatars, CommitResult, ProfileCommit, SettingsReader, Users } from '../src/domain/ports.ts';
import { MAX_COMMIT_ATTEMPTS, ProfileUseCase } from '../src/domain/profile-use-case.ts';
import type { User } from '../src/domain/user.ts';

const ADA: User = {
  id: 7,
  email: 'ada@example.com',
  password_hash: 'x',
  first_name: 'Ada',
  last_name: 'Lovelace',
  email_allowed: false,
  sms_allowed: false,
  whatsapp_allowed: false,
  call_allowed: null,
  phone: null,
  phone_verified: false,
  date_of_birth: null,
  gender: null,
  language_code: 'en',
  attributes: {},
  avatar: null,
  date_joined: new Date('2026-01-01T00:00:00Z'),
  version: 3,
};

/** The Users port in memory: applies commits as the database would, and lets a test interfere. */
class InMemoryUsers implements Users {
  user: User = { ...ADA };
  commits: ProfileCommit[] = [];
  /** Runs before each commit is applied; returning a result decides the commit instead. */
  interfere: (commit: ProfileCommit) => CommitResult | undefined = () => undefined;

  async findById(id: number) {
    return id === this.user.id ? { ...this.user } : null;
  }
  async findByEmail() {
    return null;
  }
  async idsAfter(after: number | undefined) {
    return after === undefined || after < this.user.id ? [this.user.id] : [];
  }
  async isPhoneHeldByAnother() {
    return false;
  }
  async create(): Promise<never> {
    throw new Error('not used');
  }
  async replacePasswordHash(): Promise<never> {
    throw new Error('not used');
  }
  async commitChange(commit: ProfileCommit): Promise<CommitResult> {
    this.commits.push(commit);
    const decided = this.interfere(commit);
    if (decided) return decided;
    if (commit.expectedVersion !== this.user.version) return { outcome: 'conflict' };
    this.user = { ...this.user, ...commit.set, version: commit.expectedVersion + 1 };
    return { outcome: 'committed', user: { ...this.user } };
  }
}

function settingsWith(overrides: Partial<Settings> = {}): SettingsReader {
  const values = { USER_REQUIRED_FIELDS: [], PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE: true, ...overrides };
  return { get: async (key) => values[key as keyof typeof values] as never };
}

const avatars: Avatars = {
  save: async () => 'hash',
  find: async () => null,
};

function useCase(users: InMemoryUsers, settings = settingsWith()) {
  const committed: number[] = [];
  const profiles = new ProfileUseCase({
    users,
    avatars,
    settings,
    onCommitted: (event) => committed.push(event.profile_version),
    backoff: async () => undefined,
  });
  return { profiles, committed };
}

async function errorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('ProfileUseCase.updateProfile', () => {
  test('when another writer commits between the read and the commit, then the change is re-read and committed on top of it', async () => {
    const users = new InMemoryUsers();
    users.interfere = (commit) => {
      if (users.commits.length === 1) {
        users.user = { ...users.user, last_name: 'Byron', version: commit.expectedVersion + 1 };
      }
      return undefined;
    };
    const { profiles, committed } = useCase(users);

    const user = await profiles.updateProfile(7, { first_name: 'Augusta' }, 'profile');

    expect(users.commits.map((commit) => commit.expectedVersion)).toEqual([3, 4]);
    expect(user).toMatchObject({ first_name: 'Augusta', last_name: 'Byron', version: 5 });
    // The event describes the profile as committed, the other writer's change included.
    expect(users.commits[1]!.event.profile).toMatchObject({ first_name: 'Augusta', last_name: 'Byron' });
    expect(users.commits[1]!.event.profile_version).toBe(5);
    expect(committed).toEqual([5]);
  });

  test('when the other writer already made the same change, then nothing is committed the second time', async () => {
    const users = new InMemoryUsers();
    users.interfere = (commit) => {
      users.user = { ...users.user, first_name: 'Augusta', version: commit.expectedVersion + 1 };
      return { outcome: 'conflict' };
    };
    const { profiles, committed } = useCase(users);

    const user = await profiles.updateProfile(7, { first_name: 'Augusta' }, 'profile');

    expect(users.commits).toHaveLength(1);
    expect(user.first_name).toBe('Augusta');
    expect(committed).toEqual([]);
  });

  test(`when every attempt loses to another writer, then after ${MAX_COMMIT_ATTEMPTS} attempts it gives up with update-contention`, async () => {
    const users = new InMemoryUsers();
    users.interfere = () => ({ outcome: 'conflict' });
    const { profiles, committed } = useCase(users);

    const error = await errorOf(profiles.updateProfile(7, { first_name: 'Augusta' }, 'profile'));

    expect(error.code).toBe('update-contention');
    expect(users.commits).toHaveLength(MAX_COMMIT_ATTEMPTS);
    expect(committed).toEqual([]);
  });

  test('when the store refuses the phone claim, then a phone-taken field error and no event', async () => {
    const users = new InMemoryUsers();
    users.interfere = () => ({ outcome: 'phone-taken' });
    const { profiles, committed } = useCase(users);

    const error = await errorOf(profiles.updateProfile(7, { phone: '+905321234567' }, 'profile'));

    expect(error.code).toBe('phone-taken');
    expect(error.details).toEqual({ fields: { phone: ['A user with this phone number already exists.'] } });
    expect(committed).toEqual([]);
  });

  test('when the store finds the outbox full, then outbox-full with Retry-After, counted once, and no event', async () => {
    const users = new InMemoryUsers();
    users.interfere = () => ({ outcome: 'outbox-full' });
    const refused: number[] = [];
    const profiles = new ProfileUseCase({
      users,
      avatars,
      settings: settingsWith(),
      onCommitted: () => {
        throw new Error('nothing was committed');
      },
      onOutboxFull: (userId) => refused.push(userId),
      outboxFullRetryAfterSeconds: 5,
    });

    const error = await errorOf(profiles.updateProfile(7, { first_name: 'Augusta' }, 'profile'));

    expect(error.code).toBe('outbox-full');
    expect(error.details).toEqual({ retryAfterSeconds: 5 });
    expect(users.commits).toHaveLength(1);
    expect(refused).toEqual([7]);
  });

  test.each([
    ['a new number, validator on', true, { phone: '+905321234567' }, '+905321234567'],
    ['a new number, validator off', false, { phone: '+905321234567' }, null],
    ['no number any more', true, { phone: null }, null],
    ['no change of number', true, { first_name: 'Augusta' }, undefined],
  ])('when the change carries %s, then the phone claim is %p', async (_case, active, change, claim) => {
    const users = new InMemoryUsers();
    users.user = { ...users.user, phone: '+905550000000' };
    const { profiles } = useCase(users, settingsWith({ PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE: active }));

    await profiles.updateProfile(7, change, 'profile');

    expect(users.commits[0]!.phoneClaim).toBe(claim);
  });

  test('when a code confirms the number, then it is stored verified and the event says so', async () => {
    const users = new InMemoryUsers();
    const { profiles } = useCase(users);

    const user = await profiles.updateProfile(7, { phone: '+905321234567' }, 'profile-with-loyalty', {
      verifiedPhone: '+905321234567',
    });

    expect(user.phone_verified).toBe(true);
    expect(users.commits[0]!.set).toEqual({ phone: '+905321234567', phone_verified: true });
    expect(users.commits[0]!.event.profile).toMatchObject({ phone: '+905321234567', phone_verified: true });
  });

  test('when a code confirms the number the profile already shows unverified, then only the verified state changes and the event lists phone', async () => {
    const users = new InMemoryUsers();
    users.user = { ...users.user, phone: '+905321234567', phone_verified: false };
    const { profiles } = useCase(users);

    await profiles.updateProfile(7, { phone: '+905321234567' }, 'profile-with-loyalty', {
      verifiedPhone: '+905321234567',
    });

    expect(users.commits[0]!.set).toEqual({ phone_verified: true });
    expect(users.commits[0]!.event.changed_fields).toEqual(['phone']);
    expect(users.commits[0]!.phoneClaim).toBeUndefined();
  });

  test.each([
    ['another number without a code', { phone: '+905329999999' }],
    ['the number removed', { phone: null }],
  ])('when a verified phone is replaced by %s, then it is no longer verified', async (_case, change) => {
    const users = new InMemoryUsers();
    users.user = { ...users.user, phone: '+905321234567', phone_verified: true };
    const { profiles } = useCase(users);

    const user = await profiles.updateProfile(7, change, 'profile');

    expect(user.phone_verified).toBe(false);
    expect(users.commits[0]!.event.profile.phone_verified).toBe(false);
  });

  test('when a change leaves the verified number alone, then it stays verified', async () => {
    const users = new InMemoryUsers();
    users.user = { ...users.user, phone: '+905321234567', phone_verified: true };
    const { profiles } = useCase(users);

    const user = await profiles.updateProfile(
      7,
      { phone: '+905321234567', first_name: 'Augusta' },
      'profile',
    );

    expect(user.phone_verified).toBe(true);
    expect(users.commits[0]!.set).toEqual({ first_name: 'Augusta' });
  });
});
