import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { ProfileUpdatedEvent } from '@app/events';
import { OutboxRepository } from '../../services/profile-api/src/data-access/outbox-repository.ts';
import { connectProfileDatabase } from '../../services/profile-api/src/data-access/mongo.ts';
import { userModel } from '../../services/profile-api/src/data-access/user-model.ts';
import { mongoUrlFor } from '../support/env.ts';

interface StoredOutbox {
  _id: string;
  outbox: Pick<ProfileUpdatedEvent, 'event_id' | 'occurred_at'>[];
  outbox_since?: Date;
  outbox_removals?: number;
}

function eventAt(occurredAt: string) {
  return { event_id: randomUUID(), occurred_at: occurredAt };
}

// The relay removes what it published with one $pull; outbox_since must follow what remains.
describe('profile-api: removing published events from the outbox', () => {
  let connection: Connection;
  let outbox: OutboxRepository;

  beforeAll(async () => {
    connection = await connectProfileDatabase(mongoUrlFor(`outbox_store_${Date.now()}`));
    outbox = new OutboxRepository(connection);
  });

  afterAll(async () => {
    await connection?.dropDatabase();
    await connection?.close();
  });

  const users = () => connection.collection<StoredOutbox>('users');

  async function userWith(events: StoredOutbox['outbox'], removals?: number): Promise<number> {
    const id = Math.floor(Math.random() * 1e9);
    await users().insertOne({
      _id: String(id),
      outbox: events,
      outbox_since: new Date(events[0]!.occurred_at),
      ...(removals !== undefined && { outbox_removals: removals }),
    });
    return id;
  }

  test('when some of the events were published, then only those leave and outbox_since moves to the oldest left', async () => {
    const events = [
      eventAt('2026-01-01T00:00:01Z'),
      eventAt('2026-01-01T00:00:02Z'),
      eventAt('2026-01-01T00:00:03Z'),
    ];
    const id = await userWith(events);

    await outbox.removePublished(id, [events[0]!.event_id, events[1]!.event_id]);

    const after = await users().findOne({ _id: String(id) });
    expect(after?.outbox.map((event) => event.event_id)).toEqual([events[2]!.event_id]);
    expect(after?.outbox_since).toEqual(new Date('2026-01-01T00:00:03Z'));
    expect(await outbox.usersWithBacklog(new Date('2026-01-01T00:00:02Z'), 10)).not.toContain(id);
    expect(await outbox.usersWithBacklog(new Date('2026-01-01T00:00:03Z'), 10)).toContain(id);
  });

  test('when every event was published, then the outbox is empty and outbox_since is gone', async () => {
    const events = [eventAt('2026-01-01T00:00:01Z'), eventAt('2026-01-01T00:00:02Z')];
    const id = await userWith(events);

    await outbox.removePublished(
      id,
      events.map((event) => event.event_id),
    );

    const after = await users().findOne({ _id: String(id) });
    expect(after?.outbox).toEqual([]);
    expect(after).not.toHaveProperty('outbox_since');
    expect(await outbox.eventsOf(id)).toEqual({ entries: [], removals: 1 });
  });

  test('when published events are removed in two steps, then each removal counts once, whatever path it took', async () => {
    const events = [
      eventAt('2026-01-01T00:00:01Z'),
      eventAt('2026-01-01T00:00:02Z'),
      eventAt('2026-01-01T00:00:03Z'),
    ];
    const id = await userWith(events);

    // Some left behind (the longer path), then the rest (the one-write path).
    const first = await outbox.removePublished(id, [events[0]!.event_id]);
    const second = await outbox.removePublished(id, [events[1]!.event_id, events[2]!.event_id]);

    expect([first, second]).toEqual([1, 2]);
    expect(await outbox.eventsOf(id)).toEqual({ entries: [], removals: 2 });
  });

  test('when events are appended while published ones are removed, then no appended event is lost', async () => {
    const first = eventAt('2026-01-01T00:00:01Z');
    const id = await userWith([first]);
    const appended = Array.from({ length: 20 }, (_, index) =>
      eventAt(`2026-01-01T00:01:${String(index).padStart(2, '0')}Z`),
    );

    await Promise.all([
      outbox.removePublished(id, [first.event_id]),
      ...appended.map((event) =>
        users().updateOne(
          { _id: String(id) },
          { $push: { outbox: event }, $min: { outbox_since: new Date(event.occurred_at) } },
        ),
      ),
    ]);

    const after = await users().findOne({ _id: String(id) });
    expect(after?.outbox.map((event) => event.event_id).sort()).toEqual(
      appended.map((event) => event.event_id).sort(),
    );
    // Never later than the oldest event still waiting, so the relay's backlog query finds it.
    const oldest = Math.min(...after!.outbox.map((event) => Date.parse(event.occurred_at)));
    expect(after?.outbox_since?.getTime()).toBeLessThanOrEqual(oldest);
  });

  describe('when the caller knows the removal count (the relay, under the lease)', () => {
    test('when several users’ removals arrive together, then they share statements and each answers its count plus one', async () => {
      const events = Array.from({ length: 12 }, () => eventAt('2026-01-01T00:00:01Z'));
      const ids = await Promise.all(
        events.map((event, index) => userWith([event], index % 2 ? 4 : undefined)),
      );
      const bulkWrite = jest.spyOn(userModel(connection).collection, 'bulkWrite');

      try {
        const counts = await Promise.all(
          ids.map((id, index) => outbox.removePublished(id, [events[index]!.event_id], index % 2 ? 4 : 0)),
        );

        // The first goes out alone; the others gather while it is in flight.
        expect(bulkWrite.mock.calls.length).toBeLessThanOrEqual(2);
        expect(counts).toEqual(ids.map((_, index) => (index % 2 ? 5 : 1)));
      } finally {
        bulkWrite.mockRestore();
      }
      for (const [index, id] of ids.entries()) {
        const after = await users().findOne({ _id: String(id) });
        expect(after?.outbox).toEqual([]);
        expect(after).not.toHaveProperty('outbox_since');
        expect(after?.outbox_removals).toBe(index % 2 ? 5 : 1);
      }
    });

    test('when a commit appended an event since, then only the published events leave and outbox_since moves to the one left', async () => {
      const published = eventAt('2026-01-01T00:00:01Z');
      const appended = eventAt('2026-01-01T00:00:05Z');
      const id = await userWith([published, appended], 2);

      const count = await outbox.removePublished(id, [published.event_id], 2);

      const after = await users().findOne({ _id: String(id) });
      expect(count).toBe(3);
      expect(after?.outbox.map((event) => event.event_id)).toEqual([appended.event_id]);
      expect(after?.outbox_removals).toBe(3);
      expect(after?.outbox_since).toEqual(new Date(appended.occurred_at));
      expect(await outbox.usersWithBacklog(new Date('2026-01-01T00:00:05Z'), 1000)).toContain(id);
    });

    test('when removals of a statement do not match, then the others answer their count plus one, a grown outbox gets an exact update and a moved count is removed alone', async () => {
      const [leader, moved, appendedTo, usual] = Array.from({ length: 4 }, () =>
        eventAt('2026-01-01T00:00:01Z'),
      );
      const appended = eventAt('2026-01-01T00:00:09Z');
      const leaderId = await userWith([leader!]);
      // Another holder removed something since this caller read the count (a lease that lapsed).
      const movedId = await userWith([moved!], 7);
      const appendedId = await userWith([appendedTo!, appended], 2);
      const usualId = await userWith([usual!]);
      const bulkWrite = jest.spyOn(userModel(connection).collection, 'bulkWrite');

      let counts: number[];
      try {
        // The leader's statement is in flight while the other three gather for the next one.
        counts = await Promise.all([
          outbox.removePublished(leaderId, [leader!.event_id], 0),
          outbox.removePublished(movedId, [moved!.event_id], 5),
          outbox.removePublished(appendedId, [appendedTo!.event_id], 2),
          outbox.removePublished(usualId, [usual!.event_id], 0),
        ]);
        // The leader's; the three gathered; the appended-to user's exact update.
        expect(bulkWrite).toHaveBeenCalledTimes(3);
      } finally {
        bulkWrite.mockRestore();
      }

      expect(counts).toEqual([1, 8, 3, 1]);
      expect(await outbox.eventsOf(movedId)).toEqual({ entries: [], removals: 8 });
      expect(await outbox.eventsOf(usualId)).toEqual({ entries: [], removals: 1 });
      expect(await outbox.eventsOf(appendedId)).toEqual({ entries: [{ event: appended }], removals: 3 });
      for (const id of [leaderId, movedId, usualId]) {
        expect(await users().findOne({ _id: String(id) })).not.toHaveProperty('outbox_since');
      }
      expect((await users().findOne({ _id: String(appendedId) }))?.outbox_since).toEqual(
        new Date(appended.occurred_at),
      );
    });

    test('when another event is appended between the read and the exact update, then the removal is read again and still grouped', async () => {
      const leader = eventAt('2026-01-01T00:00:01Z');
      const published = eventAt('2026-01-01T00:00:02Z');
      const [appended, late] = [eventAt('2026-01-01T00:00:05Z'), eventAt('2026-01-01T00:00:06Z')];
      const leaderId = await userWith([leader]);
      const id = await userWith([published, appended]);
      const collection = userModel(connection).collection;
      const write = collection.bulkWrite.bind(collection);
      let calls = 0;
      const bulkWrite = jest
        .spyOn(collection, 'bulkWrite')
        .mockImplementation(async (...args: Parameters<typeof write>) => {
          calls += 1;
          // The 3rd statement is the exact update of the grown outbox: a commit appends just before it.
          if (calls === 3) await users().updateOne({ _id: String(id) }, { $push: { outbox: late } });
          return write(...args);
        });

      let counts: number[];
      try {
        counts = await Promise.all([
          outbox.removePublished(leaderId, [leader.event_id], 0),
          outbox.removePublished(id, [published.event_id], 0),
        ]);
        // The leader's; the emptying update; the exact update that missed; the one after reading again.
        expect(bulkWrite).toHaveBeenCalledTimes(4);
      } finally {
        bulkWrite.mockRestore();
      }

      expect(counts).toEqual([1, 1]);
      expect(await outbox.eventsOf(id)).toEqual({
        entries: [{ event: appended }, { event: late }],
        removals: 1,
      });
      expect((await users().findOne({ _id: String(id) }))?.outbox_since).toEqual(
        new Date(appended.occurred_at),
      );
    });

    test('when the events are gone already, then nothing is touched and the answer is the count as it is', async () => {
      const left = eventAt('2026-01-01T00:00:02Z');
      const id = await userWith([left], 3);

      const count = await outbox.removePublished(id, [randomUUID()], 3);

      expect(count).toBe(3);
      expect(await outbox.eventsOf(id)).toEqual({ entries: [{ event: left }], removals: 3 });
    });
  });
});
