import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { mongoClientOptions } from '@app/datastores';
import { waitFor } from '@app/testkit';
import { stackUrls } from '../support/env.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import { readTopic } from '../support/topic-reader.ts';

interface StoredEvent {
  event_id: string;
  profile_version: number;
  profile: { attributes: Record<string, number> };
}

describe('profile-api: concurrent updates of one profile', () => {
  const topic = `profile.events.concurrency.${randomUUID()}`;
  let harness: ProfileApiHarness;
  let reader: Awaited<ReturnType<typeof readTopic>>;

  beforeAll(async () => {
    harness = await startProfileApiHarness('concurrency', { PROFILE_EVENTS_TOPIC: topic });
    reader = await readTopic(stackUrls().kafkaBrokers, topic);
  });

  afterAll(async () => {
    await reader?.stop();
    await harness?.stop();
  });

  test('when 20 PATCHes of one user race across two replicas, then none is lost and version and outbox grow by one each', async () => {
    const { client } = await harness.signUp();
    const replica = await harness.startReplica();
    const me = (await client.get('/users/profile/')).body.id as number;
    const users = mongoose
      .createConnection(harness.api.config.mongoUrl, mongoClientOptions())
      .collection<{ _id: string; version: number; outbox: unknown[] }>('users');
    const before = (await users.findOne({ _id: String(me) }))!;

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => {
        const target = index % 2 === 0 ? client : client.withBaseUrl(replica.url);
        return target.patch('/users/profile/', { attributes: { [`key${index}`]: index } });
      }),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    const after = (await users.findOne({ _id: String(me) }))!;
    expect(after.version).toBe(before.version + 20);
    // Each commit appended one event to the outbox; the relay moves them to Kafka, so every
    // event is either still in the outbox or on the topic, and none is in both or neither.
    const events = await waitFor('all 20 events to be published', async () => {
      const stillQueued = ((await users.findOne({ _id: String(me) }))!.outbox as StoredEvent[]) ?? [];
      const published = reader.records
        .filter((record) => record.key === String(me))
        .map((record) => record.value);
      const all = [...stillQueued, ...(published as unknown as StoredEvent[])];
      return stillQueued.length === 0 && all.length >= 20 ? all : undefined;
    });
    await users.conn.close();
    expect(events).toHaveLength(20);
    expect(new Set(events.map((event) => event.event_id)).size).toBe(20);
    expect(events.map((event) => event.profile_version)).toEqual(
      Array.from({ length: 20 }, (_, index) => before.version + 1 + index),
    );
    // Each PATCH replaced attributes with its own key: every change is in exactly one event.
    const changedKeys = events.map((event) => Object.keys(event.profile.attributes)[0]);
    expect(new Set(changedKeys).size).toBe(20);
  }, 60_000);

  test('when two users claim the same phone number at the same moment, then exactly one gets it', async () => {
    const [first, second] = await Promise.all([harness.signUp(), harness.signUp()]);

    const answers = await Promise.all(
      [first.client, second.client].map((client) =>
        client.patch('/users/profile/', { phone: '+905339876543' }),
      ),
    );

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
    expect(answers.find((answer) => answer.status === 400)!.body).toEqual({
      phone: ['A user with this phone number already exists.'],
    });
  });
});
