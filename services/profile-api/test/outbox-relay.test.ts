import type { ProfileUpdatedEvent } from '@app/events';
import { AppError, createLogger } from '@app/service-kit';
import { waitFor as waitForValue } from '@app/testkit';
import { OutboxRelay, pendingOf } from '../src/domain/outbox-relay.ts';
import { LEASE_TIMEOUT, type EventPublisher, type Lease, type Outbox } from '../src/domain/ports.ts';

const logger = createLogger('outbox-relay-test', { level: 'silent' });

/** The relay's rounds here take milliseconds: poll often, give up after 5 s. */
const waitFor = (description: string, condition: () => boolean) =>
  waitForValue(description, condition, { timeoutMs: 5_000, intervalMs: 5 });

function pending(userId: number, version: number): ProfileUpdatedEvent {
  return {
    event_id: `${userId}-${version}`,
    user_id: userId,
    profile_version: version,
  } as ProfileUpdatedEvent;
}

/**
 * Outboxes in memory (user → count of pending events), a publisher that holds every batch until
 * the test releases them, and a lease that refuses the users marked busy.
 */
function relayWorld(backlog: Record<number, number>, backlogConcurrency: number) {
  const outboxes = new Map<number, ProfileUpdatedEvent[]>(
    Object.entries(backlog).map(([userId, count]) => [
      Number(userId),
      Array.from({ length: count }, (_, index) => pending(Number(userId), index + 2)),
    ]),
  );
  const removals = new Map<number, number>();
  const reads = { count: 0 };
  const removalCountsGiven: (number | undefined)[] = [];
  const outbox: Outbox = {
    usersWithBacklog: async () => [...outboxes.keys()].filter((userId) => outboxes.get(userId)!.length > 0),
    eventsOf: async (userId) => {
      reads.count += 1;
      return {
        entries: (outboxes.get(userId) ?? []).map((event) => ({ event })),
        removals: removals.get(userId) ?? 0,
      };
    },
    removePublished: async (userId, ids, known) => {
      removalCountsGiven.push(known);
      outboxes.set(
        userId,
        outboxes.get(userId)!.filter((event) => !ids.includes(event.event_id)),
      );
      removals.set(userId, (removals.get(userId) ?? 0) + 1);
      return removals.get(userId)!;
    },
    oldestPendingSince: async () => undefined,
  };
  const state = { batches: [] as ProfileUpdatedEvent[][], held: [] as (() => void)[], inFlight: 0, max: 0 };
  let holding = true;
  const publisher: EventPublisher = {
    connect: async () => undefined,
    async publish(entries) {
      state.inFlight += 1;
      state.max = Math.max(state.max, state.inFlight);
      if (holding) await new Promise<void>((resolve) => state.held.push(resolve));
      state.inFlight -= 1;
      state.batches.push(entries.map((entry) => entry.event));
    },
  };
  const busy = new Set<number>();
  // Notes as a lease keeps them: taken by the next holder, left only by a holder that finished.
  const notes = new Map<string, string>();
  const lease: Lease = {
    async withLease(key, critical) {
      if (busy.has(Number(key.split(':')[1]))) throw new AppError(LEASE_TIMEOUT, `${key} is held elsewhere`);
      const note = notes.get(key);
      notes.delete(key);
      let left: string | undefined;
      const result = await critical({ note, leave: (next) => (left = next) });
      if (left !== undefined) notes.set(key, left);
      return result;
    },
  };
  const relay = new OutboxRelay({
    outbox,
    publisher,
    lease,
    logger,
    intervalMs: 1,
    graceMs: 0,
    backlogConcurrency,
  });
  return {
    relay,
    outboxes,
    removals,
    reads,
    removalCountsGiven,
    notes,
    state,
    busy,
    release() {
      holding = false;
      state.held.splice(0).forEach((resolve) => resolve());
    },
  };
}

describe('OutboxRelay background round', () => {
  test('when many users have a backlog, then the round publishes up to backlogConcurrency of them at once, each in one ordered batch', async () => {
    const world = relayWorld({ 1: 3, 2: 1, 3: 2, 4: 1, 5: 1, 6: 2 }, 4);
    world.relay.start();
    try {
      await waitFor('4 users in flight at once', () => world.state.held.length === 4);
      world.release();
      await waitFor('every outbox empty', () =>
        [...world.outboxes.values()].every((events) => !events.length),
      );
    } finally {
      await world.relay.stop();
    }

    expect(world.state.max).toBe(4);
    expect(world.state.batches).toHaveLength(6);
    const ofUser1 = world.state.batches.find((batch) => batch[0]!.user_id === 1)!;
    expect(ofUser1.map((event) => event.profile_version)).toEqual([2, 3, 4]);
  });

  test('when one user’s lease is held elsewhere, then the others are still published and that user waits for a later round', async () => {
    const world = relayWorld({ 1: 1, 2: 1, 3: 1 }, 2);
    world.busy.add(1);
    world.release();
    world.relay.start();
    try {
      await waitFor(
        'users 2 and 3 published',
        () => !world.outboxes.get(2)!.length && !world.outboxes.get(3)!.length,
      );
      expect(world.outboxes.get(1)).toHaveLength(1);
      world.busy.delete(1);
      await waitFor('user 1 published once free', () => !world.outboxes.get(1)!.length);
    } finally {
      await world.relay.stop();
    }
  });
});

describe('OutboxRelay fast path', () => {
  /** Appends an event to a user's outbox as a commit does, and what that commit reports. */
  function commit(world: ReturnType<typeof relayWorld>, userId: number, version: number) {
    const events = world.outboxes.get(userId) ?? [];
    events.push(pending(userId, version));
    world.outboxes.set(userId, events);
    return {
      entries: events.map((event) => ({ event })),
      removals: world.removals.get(userId) ?? 0,
    };
  }

  const versionsPublished = (world: ReturnType<typeof relayWorld>) =>
    world.state.batches.flat().map((event) => event.profile_version);

  test('when the previous holder’s note matches the commit’s removal count, then the commit’s outbox is published without reading it', async () => {
    const world = relayWorld({}, 1);
    world.release();
    world.relay.publishSoon(1, commit(world, 1, 2));
    await waitFor('version 2 published', () => world.outboxes.get(1)!.length === 0);
    const readsAfterFirst = world.reads.count;

    world.relay.publishSoon(1, commit(world, 1, 3));
    await waitFor('version 3 published', () => world.outboxes.get(1)!.length === 0);
    await world.relay.stop();

    // The first flush had no note to go by; the second had the first one's.
    expect(readsAfterFirst).toBe(1);
    expect(world.reads.count).toBe(1);
    expect(versionsPublished(world)).toEqual([2, 3]);
  });

  test('when another holder published the commit’s events since the commit, then the relay sends nothing twice', async () => {
    const world = relayWorld({}, 1);
    world.release();
    world.relay.publishSoon(1, commit(world, 1, 2));
    await waitFor('version 2 published', () => world.outboxes.get(1)!.length === 0);

    // Version 3 commits here, but a relay elsewhere publishes it (and leaves its note) before
    // this one's flush takes the lease.
    const reported = commit(world, 1, 3);
    await world.relay.flush(1);
    world.relay.publishSoon(1, reported);
    await world.relay.stop();

    expect(versionsPublished(world)).toEqual([2, 3]);
    // The other holder's note names what it removed: nothing of the commit's outbox is left to read.
    expect(world.reads.count).toBe(2);
  });

  test('when the previous holder left no note, then the relay reads the outbox', async () => {
    const world = relayWorld({}, 1);
    world.release();
    world.relay.publishSoon(1, commit(world, 1, 2));
    await waitFor('version 2 published', () => world.outboxes.get(1)!.length === 0);
    world.notes.clear();

    world.relay.publishSoon(1, commit(world, 1, 3));
    await waitFor('version 3 published', () => world.outboxes.get(1)!.length === 0);
    await world.relay.stop();

    expect(world.reads.count).toBe(2);
    expect(versionsPublished(world)).toEqual([2, 3]);
  });

  test('when the relay removes what it published, then it tells the outbox the removal count it published from', async () => {
    const world = relayWorld({}, 1);
    world.release();
    world.relay.publishSoon(1, commit(world, 1, 2));
    await waitFor('version 2 published', () => world.outboxes.get(1)!.length === 0);
    world.relay.publishSoon(1, commit(world, 1, 3));
    await waitFor('version 3 published', () => world.outboxes.get(1)!.length === 0);
    await world.relay.stop();

    // Read from the outbox the first time, from the commit's snapshot (note matched) the second.
    expect(world.removalCountsGiven).toEqual([0, 1]);
  });

  test('when a commit appended while the previous holder published, then the next flush sends only the new event without reading the outbox', async () => {
    const world = relayWorld({}, 1);
    world.relay.publishSoon(1, commit(world, 1, 2));
    await waitFor('version 2 in flight', () => world.state.held.length === 1);
    // Version 3 commits while version 2 is being sent: its outbox holds both. Its flush takes the
    // lease once the first one left it.
    const reported = commit(world, 1, 3);
    world.release();
    await waitFor('the first holder’s note', () => world.notes.has('outbox:1'));
    world.relay.publishSoon(1, reported);
    await waitFor('version 3 published', () => versionsPublished(world).includes(3));
    await world.relay.stop();

    expect(versionsPublished(world)).toEqual([2, 3]);
    // Only the first flush, which had no note, read the outbox.
    expect(world.reads.count).toBe(1);
  });
});

describe('OutboxRelay notes', () => {
  test('when a holder finds nothing to publish, then it passes on the note it found', async () => {
    const world = relayWorld({ 1: 1 }, 1);
    world.release();
    await world.relay.flush(1);
    const left = world.notes.get('outbox:1');

    await world.relay.flush(1);
    await world.relay.stop();

    expect(left).toBe('1:1-2');
    expect(world.notes.get('outbox:1')).toBe(left);
  });
});

describe('pendingOf', () => {
  const snapshot = (removals: number, ...ids: string[]) => ({
    entries: ids.map((id) => ({ event: { event_id: id } as ProfileUpdatedEvent })),
    removals,
  });

  test('when the note has the commit’s count, then all of the commit’s outbox is pending', () => {
    expect(pendingOf(snapshot(4, 'a', 'b'), '4')).toEqual(snapshot(4, 'a', 'b'));
    expect(pendingOf(snapshot(4, 'a', 'b'), '4:x')).toEqual(snapshot(4, 'a', 'b'));
  });

  test('when the note is one removal ahead and names it, then the rest of the commit’s outbox is pending', () => {
    expect(pendingOf(snapshot(4, 'a', 'b', 'c'), '5:a,b')).toEqual(snapshot(5, 'c'));
    expect(pendingOf(snapshot(4, 'a'), '5:a')).toEqual(snapshot(5));
  });

  test('when the note cannot tell, then nothing is assumed and the outbox is read', () => {
    expect(pendingOf(snapshot(4, 'a'), undefined)).toBeUndefined();
    expect(pendingOf(undefined, '4')).toBeUndefined();
    expect(pendingOf(snapshot(4, 'a', 'b'), '5')).toBeUndefined();
    expect(pendingOf(snapshot(4, 'a', 'b'), '6:a')).toBeUndefined();
    expect(pendingOf(snapshot(4, 'a', 'b'), '3:a')).toBeUndefined();
  });
});
