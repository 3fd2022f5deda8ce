import type { ProfileUpdatedEvent } from '@app/events';
import { AppError, createLogger } from '@app/service-kit';
import { waitFor as waitForValue } from '@app/testkit';
import { OutboxRelay } from '../src/domain/outbox-relay.ts';
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
  const outbox: Outbox = {
    usersWithBacklog: async () => [...outboxes.keys()].filter((userId) => outboxes.get(userId)!.length > 0),
    eventsOf: async (userId) => (outboxes.get(userId) ?? []).map((event) => ({ event })),
    removePublished: async (userId, ids) => {
      outboxes.set(
        userId,
        outboxes.get(userId)!.filter((event) => !ids.includes(event.event_id)),
      );
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
  const lease: Lease = {
    async withLease(key, critical) {
      if (busy.has(Number(key.split(':')[1]))) throw new AppError(LEASE_TIMEOUT, `${key} is held elsewhere`);
      return critical();
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
