import { randomUUID } from 'node:crypto';
import type mongoose from 'mongoose';
import type { ProfileApi } from '@app/profile-api';
import { waitFor } from '@app/testkit';
import type { ApiClient, ApiResponse } from '../support/api-client.ts';
import { stackUrls } from '../support/env.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import { readTopic } from '../support/topic-reader.ts';

interface StoredEvent {
  event_id: string;
  profile_version: number;
  changed_fields: string[];
  profile: Record<string, unknown> & { attributes: Record<string, number> };
}

interface StoredUser {
  _id: string;
  version: number;
  phone: string | null;
  outbox: StoredEvent[];
}

const EMAIL_TAKEN = { email: ['A user is already registered with this e-mail address.'] };
const PHONE_TAKEN = { phone: ['A user with this phone number already exists.'] };

// No lock anywhere on these paths: the database's atomic conditional updates and unique indexes
// decide every race, across two replicas sharing one database.
describe('profile-api: concurrent writers', () => {
  const topic = `profile.events.concurrency.${randomUUID()}`;
  let harness: ProfileApiHarness;
  let replica: ProfileApi;
  let reader: Awaited<ReturnType<typeof readTopic>>;
  let users: mongoose.Collection<StoredUser>;

  beforeAll(async () => {
    harness = await startProfileApiHarness('concurrency', { PROFILE_EVENTS_TOPIC: topic });
    replica = await harness.startReplica();
    reader = await readTopic(stackUrls().kafkaBrokers, topic);
    users = (await harness.database()).collection<StoredUser>('users');
  });

  afterAll(async () => {
    await reader?.stop();
    await harness?.stop();
  });

  /** Alternates requests between the two replicas. */
  const onReplica = (client: ApiClient, index: number) =>
    index % 2 === 0 ? client : client.withBaseUrl(replica.url);

  async function idOf(client: ApiClient): Promise<number> {
    return (await client.get('/users/profile/')).body.id as number;
  }

  async function storedUser(id: number): Promise<StoredUser> {
    return (await users.findOne({ _id: String(id) }))!;
  }

  /**
   * Every event of a user newer than `sinceVersion`, once the relay has moved them all to Kafka:
   * each is either still in the outbox or on the topic, never both or neither.
   */
  async function eventsAfter(id: number, sinceVersion: number, expected: number): Promise<StoredEvent[]> {
    const events = await waitFor(`${expected} events of user ${id} to be published`, async () => {
      const stillQueued = (await storedUser(id)).outbox;
      const published = reader.records
        .filter((record) => record.key === String(id))
        .map((record) => record.value as unknown as StoredEvent)
        .filter((event) => event.profile_version > sinceVersion);
      return stillQueued.length === 0 && published.length >= expected ? published : undefined;
    });
    return [...events].sort((a, b) => a.profile_version - b.profile_version);
  }

  test('when 20 PATCHes of one user race across two replicas, then none is lost and version and outbox grow by one each', async () => {
    const { client } = await harness.signUp();
    const me = await idOf(client);
    const before = await storedUser(me);

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        onReplica(client, index).patch('/users/profile/', { attributes: { [`key${index}`]: index } }),
      ),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect((await storedUser(me)).version).toBe(before.version + 20);
    const events = await eventsAfter(me, before.version, 20);
    expect(events).toHaveLength(20);
    expect(new Set(events.map((event) => event.event_id)).size).toBe(20);
    expect(events.map((event) => event.profile_version)).toEqual(
      Array.from({ length: 20 }, (_, index) => before.version + 1 + index),
    );
    // Each PATCH replaced attributes with its own key: every change is in exactly one event.
    const changedKeys = events.map((event) => Object.keys(event.profile.attributes)[0]);
    expect(new Set(changedKeys).size).toBe(20);
  }, 60_000);

  test('when 16 writers set the same field of one profile at once, then every 200 is one committed version with its own event and the last one stays', async () => {
    const { client } = await harness.signUp();
    const me = await idOf(client);
    const before = await storedUser(me);
    const names = Array.from({ length: 16 }, (_, index) => `Writer${index}`);

    const responses = await Promise.all(
      names.map((first_name, index) => onReplica(client, index).patch('/users/profile/', { first_name })),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(16).fill(200));
    // Each answer shows the writer's own change: it was committed, not overwritten unseen.
    expect(responses.map((response) => response.body.first_name)).toEqual(names);
    const events = await eventsAfter(me, before.version, 16);
    expect(events.map((event) => event.profile_version)).toEqual(
      Array.from({ length: 16 }, (_, index) => before.version + 1 + index),
    );
    expect(events.map((event) => event.profile.first_name).sort()).toEqual([...names].sort());
    const after = await client.get('/users/profile/');
    expect(after.body.first_name).toBe(events.at(-1)!.profile.first_name);
    expect((await storedUser(me)).version).toBe(before.version + 16);
  }, 60_000);

  test('when writers change different fields of one profile at once, then every change is kept and each has its own version and event', async () => {
    const { client } = await harness.signUp();
    const me = await idOf(client);
    const before = await storedUser(me);
    const changes: Record<string, unknown>[] = [
      { first_name: 'Grace' },
      { last_name: 'Hopper' },
      { email_allowed: true },
      { sms_allowed: true },
      { whatsapp_allowed: true },
      { call_allowed: false },
      { gender: 'female' },
      { language_code: 'tr' },
      { date_of_birth: '1906-12-09' },
      { attributes: { rank: 'rear admiral' } },
    ];

    const responses = await Promise.all(
      changes.map((change, index) => onReplica(client, index).patch('/users/profile/', change)),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(changes.length).fill(200));
    const profile = (await client.get('/users/profile/')).body;
    expect(profile).toMatchObject(Object.assign({}, ...changes));
    const events = await eventsAfter(me, before.version, changes.length);
    expect(events.map((event) => event.profile_version)).toEqual(
      Array.from({ length: changes.length }, (_, index) => before.version + 1 + index),
    );
    expect(events.flatMap((event) => event.changed_fields).sort()).toEqual(
      changes.flatMap((change) => Object.keys(change)).sort(),
    );
  }, 60_000);

  test('when 10 registrations of one email race across two replicas, then exactly one is created and the rest get the DRF 400 on email', async () => {
    const email = `race.${Date.now()}@example.com`;
    const anonymous = harness.client();

    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        onReplica(anonymous, index).post('/users/registration/', {
          // Case differs: the unique key is the lower-cased email.
          email: index % 3 === 0 ? email.toUpperCase() : email,
          password: 'correct horse battery staple',
          first_name: 'Ada',
          last_name: 'Lovelace',
          confirm: true,
        }),
      ),
    );

    expect(responses.map((response) => response.status).sort()).toEqual([201, ...Array(9).fill(400)]);
    for (const refused of responses.filter((response) => response.status === 400)) {
      expect(refused.body).toEqual(EMAIL_TAKEN);
    }
    expect(await users.countDocuments({ email_normalized: email.toLowerCase() })).toBe(1);
  });

  test('when 20 registrations of different emails race across two replicas, then each gets its own id', async () => {
    const anonymous = harness.client();
    const stamp = Date.now();

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        onReplica(anonymous, index).post('/users/registration/', {
          email: `distinct${index}.${stamp}@example.com`,
          password: 'correct horse battery staple',
          first_name: 'Ada',
          last_name: 'Lovelace',
          confirm: true,
        }),
      ),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(20);
  });

  test('when two users claim the same phone number at the same moment, then exactly one gets it', async () => {
    const [first, second] = await Promise.all([harness.signUp(), harness.signUp()]);

    const answers = await Promise.all(
      [first.client, second.client].map((client) =>
        client.patch('/users/profile/', { phone: '+905339876543' }),
      ),
    );

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
    expect(answers.find((answer) => answer.status === 400)!.body).toEqual(PHONE_TAKEN);
  });

  test('when 6 users on two replicas claim one phone number at once, again and again, then each time exactly one holds it and the rest get the DRF 400', async () => {
    const claimants = await Promise.all(Array.from({ length: 6 }, () => harness.signUp()));
    const ids = await Promise.all(claimants.map(({ client }) => idOf(client)));

    for (const phone of ['+905321110001', '+905321110002', '+905321110003', '+905321110004']) {
      const answers: ApiResponse[] = await Promise.all(
        claimants.map(({ client }, index) => onReplica(client, index).patch('/users/profile/', { phone })),
      );

      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
      for (const refused of answers.filter((answer) => answer.status === 400)) {
        expect(refused.body).toEqual(PHONE_TAKEN);
      }
      const holders = await users.find({ _id: { $in: ids.map(String) }, phone }).toArray();
      expect(holders).toHaveLength(1);
      expect(holders[0]!._id).toBe(String(ids[answers.findIndex((answer) => answer.status === 200)]));
    }
  });

  test('when the phone validator is off, then two users may hold one number, and once it is on again a third is refused', async () => {
    const [first, second, third] = await Promise.all([harness.signUp(), harness.signUp(), harness.signUp()]);
    await harness.setSetting('PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE', false);
    try {
      await waitFor('the validator to be off', async () => {
        const probe = await first.client.patch('/users/profile/', { phone: '+905321119999' });
        const other = await second.client.patch('/users/profile/', { phone: '+905321119999' });
        return probe.status === 200 && other.status === 200 ? true : undefined;
      });
    } finally {
      await harness.setSetting('PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE', true);
    }

    const refused = await waitFor('the validator to be on again', async () => {
      const answer = await third.client.patch('/users/profile/', { phone: '+905321119999' });
      return answer.status === 400 ? answer : undefined;
    });

    expect(refused.body).toEqual(PHONE_TAKEN);
  });
});
