import { waitFor } from '@app/testkit';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { createLogger } from '@app/service-kit';
import type { BreakerState } from '../src/data-access/loyalty-card-client.ts';
import type { ProfileUpdatedEvent } from '@app/events';
import type { SyncOutcome } from '../src/domain/sync-use-case.ts';
import type { DeadLetterFailure } from '../src/entry-points/messaging/dead-letters.ts';
import { ProfileEventsConsumer } from '../src/entry-points/messaging/profile-events-consumer.ts';
import { createLoyaltySyncMetrics } from '../src/metrics.ts';
import { event } from './support/events.ts';

const TOPIC = 'profile.events.v1';
const EVENTS = {
  GROUP_JOIN: 'group-join',
  CRASH: 'crash',
  DISCONNECT: 'disconnect',
  REBALANCING: 'rebalancing',
};

/**
 * Just enough of a kafkajs consumer: its pause state, its listeners, the eachBatch it was given,
 * and its offsets: resolved ones (the fetch position) and what was committed, in `log` order.
 */
function fakeKafka() {
  const listeners = new Map<string, (event: { payload: unknown }) => void>();
  const paused = new Set<number>();
  let eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  let runConfig: Record<string, unknown> = {};
  const resolvedOffsets = new Map<number, string>();
  const committedOffsets = new Map<number, string>();
  const log: string[] = [];
  const running = new Set<Promise<void>>();
  const uncommittedOffsets = () => ({
    topics: [
      {
        topic: TOPIC,
        partitions: [...resolvedOffsets]
          .filter(([partition, offset]) => committedOffsets.get(partition) !== offset)
          .map(([partition, offset]) => ({ partition, offset })),
      },
    ].filter(({ partitions }) => partitions.length > 0),
  });
  const commitOffsetsIfNecessary = async (offsets?: ReturnType<typeof uncommittedOffsets>) => {
    for (const { partitions } of offsets?.topics ?? []) {
      for (const { partition, offset } of partitions) {
        committedOffsets.set(partition, offset);
        log.push(`commit ${partition}@${offset}`);
      }
    }
  };
  const consumer = {
    events: EVENTS,
    on: (name: string, listener: (event: { payload: unknown }) => void) => listeners.set(name, listener),
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (config: { eachBatch: typeof eachBatch }) => {
      runConfig = config;
      eachBatch = config.eachBatch;
    },
    // kafkajs lets the running batches end before it leaves the group.
    disconnect: async () => {
      await Promise.allSettled([...running]);
      log.push('disconnect');
    },
    pause: (list: { topic: string; partitions?: number[] }[]) =>
      list.forEach(({ partitions = [] }) => partitions.forEach((partition) => paused.add(partition))),
    resume: (list: { topic: string; partitions?: number[] }[]) =>
      list.forEach(({ partitions }) =>
        partitions ? partitions.forEach((partition) => paused.delete(partition)) : paused.clear(),
      ),
    paused: () => (paused.size > 0 ? [{ topic: TOPIC, partitions: [...paused] }] : []),
  };
  return {
    kafka: { consumer: () => consumer } as unknown as Kafka,
    paused,
    log,
    runConfig: () => runConfig,
    committed: (partition: number) => committedOffsets.get(partition),
    emit: (name: string, payload: unknown) => listeners.get(name)?.({ payload }),
    /** Runs one batch of a partition; returns the offsets resolved. */
    async batch(partition: number, messages: KafkaMessage[]): Promise<string[]> {
      const resolved: string[] = [];
      const run = eachBatch!({
        batch: { topic: TOPIC, partition, highWatermark: String(messages.length + 10), messages },
        resolveOffset: (offset: string) => {
          resolved.push(offset);
          // kafkajs commits the offset after the last one consumed
          resolvedOffsets.set(partition, String(Number(offset) + 1));
        },
        heartbeat: async () => undefined,
        isRunning: () => true,
        isStale: () => false,
        commitOffsetsIfNecessary,
        uncommittedOffsets,
      } as unknown as EachBatchPayload);
      running.add(run);
      try {
        await run;
      } finally {
        running.delete(run);
      }
      log.push(`batch ${partition} ended`);
      return resolved;
    },
  };
}

function message(offset: number, value: string | null, key = '7'): KafkaMessage {
  return {
    offset: String(offset),
    key: Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    headers: {},
    timestamp: '0',
    attributes: 0,
  } as KafkaMessage;
}

function setUp(
  outcomes: SyncOutcome[],
  {
    handle,
    maxInFlight = 8,
    commitIntervalMs = 60_000,
  }: {
    handle?: (update: ProfileUpdatedEvent) => Promise<SyncOutcome>;
    maxInFlight?: number;
    commitIntervalMs?: number;
  } = {},
) {
  const fake = fakeKafka();
  let circuit: BreakerState = 'closed';
  const circuitListeners: ((state: BreakerState) => void)[] = [];
  const deadLettered: { offset: string; failure: DeadLetterFailure }[] = [];
  const handled: string[] = [];
  const fatal: Error[] = [];
  const consumer = new ProfileEventsConsumer({
    kafka: fake.kafka,
    topic: TOPIC,
    groupId: 'loyalty-sync',
    fromBeginning: true,
    partitionsConcurrently: 12,
    maxInFlight,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 500,
    fetchMaxWaitMs: 500,
    useCase: {
      handle: async (update) => {
        handled.push(update.event_id);
        if (handle) return handle(update);
        return outcomes.shift() ?? { kind: 'applied', result: 'applied', attempts: 1 };
      },
    },
    deadLetters: {
      publish: async ({ message: original }, failure) => {
        deadLettered.push({ offset: original.offset, failure });
      },
    },
    circuit: {
      state: () => circuit,
      onStateChange: (listener) => circuitListeners.push(listener),
    },
    metrics: createLoyaltySyncMetrics({
      pausedPartitions: () => fake.paused.size,
      authBlocked: () => false,
      loyaltySetting: async () => ({ enabled: true, sync_all_updates: false }),
    }),
    logger: createLogger('consumer-test', { level: 'silent' }),
    retryPauseMs: 20,
    commitIntervalMs,
    onFatal: (error) => fatal.push(error),
  });
  const setCircuit = (state: BreakerState) => {
    circuit = state;
    circuitListeners.forEach((listener) => listener(state));
  };
  return { fake, consumer, deadLettered, handled, fatal, setCircuit };
}

const valid = (version: number) => JSON.stringify(event({ profile_version: version }));
const ofUser = (userId: number, version: number) =>
  message(
    version * 10 + userId,
    JSON.stringify(event({ user_id: userId, profile_version: version })),
    String(userId),
  );

/** A provider call the test finishes by hand. */
function heldCalls() {
  const pending = new Map<string, (outcome: SyncOutcome) => void>();
  const started: string[] = [];
  return {
    started,
    handle: (update: ProfileUpdatedEvent) =>
      new Promise<SyncOutcome>((resolve) => {
        const id = `${update.user_id}@${update.profile_version}`;
        started.push(id);
        pending.set(id, resolve);
      }),
    finish(id: string, outcome: SyncOutcome = { kind: 'applied', result: 'applied', attempts: 1 }) {
      const resolve = pending.get(id);
      if (!resolve) throw new Error(`${id} is not in flight`);
      pending.delete(id);
      resolve(outcome);
    },
    inFlight: () => [...pending.keys()],
  };
}

describe('profile events consumer', () => {
  test('when records are applied or skipped, then each offset is resolved in order', async () => {
    const { fake, consumer } = setUp([
      { kind: 'applied', result: 'applied', attempts: 1 },
      { kind: 'skipped', reason: 'stale' },
    ]);
    await consumer.start();

    expect(await fake.batch(3, [message(10, valid(1)), message(11, valid(2))])).toEqual(['10', '11']);
  });

  test('when a record is not JSON or breaks the contract, then it is dead-lettered and its offset resolved, without a throw', async () => {
    const { fake, consumer, deadLettered, handled } = setUp([]);
    await consumer.start();

    const resolved = await fake.batch(0, [
      message(1, 'not json'),
      message(2, JSON.stringify({ event_id: 'x' })),
      message(3, null),
      message(4, valid(1)),
    ]);

    expect(resolved).toEqual(['1', '2', '3', '4']);
    expect(deadLettered.map(({ offset, failure }) => [offset, failure.reason, failure.attempts])).toEqual([
      ['1', 'poison', 1],
      ['2', 'poison', 1],
      ['3', 'poison', 1],
    ]);
    expect(deadLettered[0]!.failure.error).toBe('message is not JSON');
    expect(handled).toHaveLength(1);
  });

  test('when the provider refuses a record for good, then it is dead-lettered and the partition moves on', async () => {
    const { fake, consumer, deadLettered } = setUp([
      { kind: 'dead-letter', reason: 'rejected', error: 'loyalty card service answered 400', attempts: 1 },
    ]);
    await consumer.start();

    expect(await fake.batch(0, [message(5, valid(1)), message(6, valid(2))])).toEqual(['5', '6']);
    expect(deadLettered).toEqual([
      {
        offset: '5',
        failure: { reason: 'rejected', error: 'loyalty card service answered 400', attempts: 1 },
      },
    ]);
  });

  test('when the circuit refuses a record, then its offset stays unresolved, the rest of the batch waits and the partition pauses', async () => {
    const { fake, consumer, handled, setCircuit } = setUp([
      { kind: 'applied', result: 'applied', attempts: 1 },
      { kind: 'unavailable', attempts: 1 },
    ]);
    await consumer.start();
    setCircuit('open');

    const resolved = await fake.batch(2, [message(7, valid(1)), message(8, valid(2)), message(9, valid(3))]);

    expect(resolved).toEqual(['7']);
    expect(handled).toHaveLength(2);
    expect([...fake.paused]).toEqual([2]);
  });

  test('when the circuit refuses a record but has closed meanwhile, then the partition is not left paused', async () => {
    const { fake, consumer } = setUp([{ kind: 'unavailable', attempts: 1 }]);
    await consumer.start();

    expect(await fake.batch(2, [message(7, valid(1))])).toEqual([]);
    expect(fake.paused.size).toBe(0);
  });

  test('when the circuit opens, then every assigned partition pauses, and half-open resumes them', async () => {
    const { fake, consumer, setCircuit } = setUp([]);
    await consumer.start();
    fake.emit(EVENTS.GROUP_JOIN, { memberAssignment: { [TOPIC]: [1, 4, 9] } });

    setCircuit('open');
    expect([...fake.paused].sort()).toEqual([1, 4, 9]);
    expect(consumer.pausedPartitions()).toBe(3);
    expect(await fake.batch(4, [message(1, valid(1))])).toEqual([]);

    setCircuit('half-open');
    expect(fake.paused.size).toBe(0);
  });

  test('when the provider fails for everyone or the database fails, then the partition pauses briefly and resumes by itself', async () => {
    const { fake, consumer } = setUp([{ kind: 'deferred', error: 'answered 503', attempts: 5 }]);
    await consumer.start();

    expect(await fake.batch(6, [message(3, valid(1))])).toEqual([]);
    expect([...fake.paused]).toEqual([6]);
    await waitFor('the partition to resume', () => fake.paused.size === 0, { timeoutMs: 2_000 });
    expect(fake.paused.size).toBe(0);
    await consumer.stop();
  });

  test('when shutdown interrupts a record, then it stays unresolved for the next owner', async () => {
    const { fake, consumer } = setUp([{ kind: 'interrupted', attempts: 2 }]);
    await consumer.start();

    expect(await fake.batch(0, [message(1, valid(1)), message(2, valid(2))])).toEqual([]);
  });

  test('when kafkajs reports a crash it will not restart, then the service is told to exit; a restartable one is not fatal', async () => {
    const { fake, consumer, fatal } = setUp([]);
    await consumer.start();
    fake.emit(EVENTS.GROUP_JOIN, { memberAssignment: { [TOPIC]: [0] } });
    expect(consumer.isReady()).toBe(true);

    fake.emit(EVENTS.CRASH, { error: new Error('retriable'), restart: true });
    expect(fatal).toHaveLength(0);
    expect(consumer.isReady()).toBe(false);

    fake.emit(EVENTS.CRASH, { error: new Error('gave up'), restart: false });
    expect(fatal.map((error) => error.message)).toEqual(['gave up']);
  });
  test("when records of different users wait on the provider, then they are handled concurrently, each user's in order", async () => {
    const calls = heldCalls();
    const { fake, consumer } = setUp([], { handle: calls.handle });
    await consumer.start();
    // Offsets: user 1 v1 = 11, user 2 v1 = 12, user 1 v2 = 21, user 3 v1 = 13.
    const batch = fake.batch(0, [ofUser(1, 1), ofUser(2, 1), ofUser(1, 2), ofUser(3, 1)]);

    await waitFor('users 1, 2 and 3 to be in flight', () => calls.inFlight().length === 3, {
      timeoutMs: 2_000,
    });
    expect(calls.inFlight()).toEqual(['1@1', '2@1', '3@1']);
    calls.finish('3@1');
    calls.finish('1@1');
    await waitFor("user 1's next record to start", () => calls.inFlight().includes('1@2'), {
      timeoutMs: 2_000,
    });
    calls.finish('1@2');
    calls.finish('2@1');

    expect(await batch).toEqual(['11', '12', '21', '13']);
    expect(calls.started).toEqual(['1@1', '2@1', '3@1', '1@2']);
  });

  test('when more records could run than the in-flight limit allows, then no more than the limit are handled at once', async () => {
    const calls = heldCalls();
    const { fake, consumer } = setUp([], { handle: calls.handle, maxInFlight: 2 });
    await consumer.start();
    const batch = fake.batch(0, [ofUser(1, 1), ofUser(2, 1), ofUser(3, 1)]);

    await waitFor('two records in flight', () => calls.inFlight().length === 2, { timeoutMs: 2_000 });
    calls.finish('1@1');
    await waitFor('the third record to start', () => calls.inFlight().includes('3@1'), { timeoutMs: 2_000 });
    expect(calls.inFlight()).toEqual(['2@1', '3@1']);
    calls.finish('2@1');
    calls.finish('3@1');

    expect(await batch).toEqual(['11', '12', '13']);
  });

  test("when one user's record must wait for the provider, then only the finished prefix is resolved and that user's later records do not run", async () => {
    const calls = heldCalls();
    const { fake, consumer } = setUp([], { handle: calls.handle });
    await consumer.start();
    const batch = fake.batch(5, [ofUser(1, 1), ofUser(2, 1), ofUser(2, 2), ofUser(3, 1)]);

    await waitFor('users 1, 2 and 3 to be in flight', () => calls.inFlight().length === 3, {
      timeoutMs: 2_000,
    });
    calls.finish('1@1');
    calls.finish('3@1');
    calls.finish('2@1', { kind: 'deferred', error: 'answered 503', attempts: 5 });

    // User 3 finished past the gap: it is not resolved and will be seen again (then skipped as stale).
    expect(await batch).toEqual(['11']);
    expect(calls.started).not.toContain('2@2');
    expect([...fake.paused]).toEqual([5]);
    await consumer.stop();
  });

  test('when a batch is handled, then it ends without a commit, and the next interval commits what it resolved', async () => {
    const { fake, consumer } = setUp([], { commitIntervalMs: 20 });
    await consumer.start();

    expect(fake.runConfig()).toMatchObject({ autoCommit: false, eachBatchAutoResolve: false });
    expect(await fake.batch(4, [message(10, valid(1)), message(11, valid(2))])).toEqual(['10', '11']);
    expect(fake.log).toEqual(['batch 4 ended']);
    await waitFor('the interval to commit', () => fake.committed(4) === '12', { timeoutMs: 2_000 });
    expect(fake.log).toEqual(['batch 4 ended', 'commit 4@12']);
    await consumer.stop();
  });

  test('when the group starts to rebalance, then the offsets resolved so far are committed', async () => {
    const { fake, consumer } = setUp([]);
    await consumer.start();
    await fake.batch(2, [message(5, valid(1))]);

    fake.emit(EVENTS.REBALANCING, { groupId: 'loyalty-sync', memberId: 'm' });

    await waitFor('the commit', () => fake.committed(2) === '6', { timeoutMs: 2_000 });
    await consumer.stop();
  });

  test('when the consumer stops, then what its batches resolved is committed before it leaves the group', async () => {
    const calls = heldCalls();
    const { fake, consumer } = setUp([], { handle: calls.handle });
    await consumer.start();
    const done = fake.batch(1, [ofUser(1, 1)]);
    await waitFor('the first batch to end', () => calls.inFlight().length === 1, { timeoutMs: 2_000 });
    calls.finish('1@1');
    await done;
    const running = fake.batch(3, [ofUser(2, 1)]);
    await waitFor('a record in flight', () => calls.inFlight().length === 1, { timeoutMs: 2_000 });

    const stopped = consumer.stop();
    calls.finish('2@1');
    await running;
    await stopped;

    expect(fake.log).toEqual(['batch 1 ended', 'commit 1@12', 'commit 3@13', 'batch 3 ended', 'disconnect']);
  });
});
