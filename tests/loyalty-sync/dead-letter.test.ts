import { randomUUID } from 'node:crypto';
import { waitFor } from '@app/testkit';
import {
  eventHeaders,
  expectedPayload,
  produceEvents,
  profileEvent,
  readToEnd,
  type TopicRecord,
} from '../support/loyalty-sync.ts';
import { startLoyaltySuite, type LoyaltySuite } from '../support/loyalty-suite.ts';
import { runLoyaltySyncCli, type WorkerProcess } from '../support/workers.ts';

describe('loyalty-sync dead letters and their replay', () => {
  let suite: LoyaltySuite;
  let worker: WorkerProcess;
  let cliEnv: Record<string, string>;

  const rejected = profileEvent(3002, 1);
  const poisonEventId = randomUUID();
  const poisonValue = Buffer.from('{"event_id": "oops", this is not JSON');

  const deadLetters = () => readToEnd(suite.kafka, suite.names.deadLetterTopic);
  const caughtUp = () =>
    waitFor('the worker to commit every record', () => suite.groupCaughtUp(), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  const dropTimestamp = (record: TopicRecord) => {
    const { dlq_failed_at: failedAt, ...headers } = record.headers;
    expect(new Date(failedAt!).getTime()).not.toBeNaN();
    return headers;
  };

  beforeAll(async () => {
    suite = await startLoyaltySuite('dlq');
    worker = await suite.spawnWorker('dlq-worker');
    cliEnv = {
      KAFKA_BROKERS: suite.brokers,
      PROFILE_EVENTS_TOPIC: suite.names.topic,
      CONSUMER_GROUP: suite.names.group,
      DLQ_REPLAY_GROUP: suite.names.replayGroup,
    };
  }, 120_000);

  afterAll(() => suite?.stop());

  test('when a record is not JSON and another is refused by the provider with 400, then both go to the dead-letter topic with their own headers (trace context included) and the dlq ones, and their partitions move on', async () => {
    await suite.provider.faults({ error_rate: 1, status: 400 });
    // With the trace context a traced producer writes: a dead-lettered record keeps it.
    const poisonHeaders = {
      event_id: poisonEventId,
      event_type: 'ProfileUpdated',
      schema_version: '1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    };
    const [poison] = await suite.producer.send({
      topic: suite.names.topic,
      acks: -1,
      messages: [{ key: '3001', value: poisonValue, headers: poisonHeaders }],
    });
    const [refused] = await produceEvents(suite.producer, suite.names.topic, [rejected]);

    await waitFor('both records in the dead-letter topic', async () => (await deadLetters()).length === 2, {
      timeoutMs: 60_000,
      intervalMs: 250,
    });

    const records = await deadLetters();
    const poisonRecord = records.find((record) => record.key === '3001')!;
    const refusedRecord = records.find((record) => record.key === '3002')!;
    expect(poisonRecord.value).toEqual(poisonValue);
    expect(dropTimestamp(poisonRecord)).toEqual({
      ...poisonHeaders,
      dlq_reason: 'poison',
      dlq_error: 'message is not JSON',
      dlq_attempts: '1',
      dlq_topic: suite.names.topic,
      dlq_partition: String(poison!.partition),
      dlq_offset: poison!.baseOffset,
      dlq_consumer_group: suite.names.group,
    });
    expect(JSON.parse(refusedRecord.value!.toString())).toEqual(rejected);
    expect(dropTimestamp(refusedRecord)).toEqual({
      ...Object.fromEntries(
        Object.entries(eventHeaders(rejected)).map(([name, value]) => [name, String(value)]),
      ),
      dlq_reason: 'rejected',
      dlq_error: 'loyalty card service answered 400',
      dlq_attempts: '1',
      dlq_topic: suite.names.topic,
      dlq_partition: String(refused!.partition),
      dlq_offset: refused!.baseOffset,
      dlq_consumer_group: suite.names.group,
    });
    expect(await suite.provider.stats()).toMatchObject({ applied: 0, rejected_by_fault: 1 });
    expect(await worker.metric('loyalty_sync_events_dead_lettered_total', { reason: 'poison' })).toBe(1);
    expect(await worker.metric('loyalty_sync_events_dead_lettered_total', { reason: 'rejected' })).toBe(1);
    // A 400 is about the request, not the provider's health: the circuit stayed closed.
    expect(await worker.metric('loyalty_sync_breaker_transitions_total')).toBe(0);

    // The next record behind the poison one (same key, same partition) is handled.
    await suite.provider.clearFaults();
    const next = profileEvent(3001, 1);
    await produceEvents(suite.producer, suite.names.topic, [next]);
    await waitFor(
      'the record after the poison one to be applied',
      async () => (await suite.provider.customer(3001))?.applications === 1,
    );
    await caughtUp();
  }, 120_000);

  test('when the replay tool runs after the fault is cleared, then the refused event is delivered and applied once, and the poison record is left out', async () => {
    const run = await runLoyaltySyncCli('replay-dlq.ts', [], cliEnv);

    console.log(`replay tool output:\n${run.stdout}`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`replayed ${rejected.event_id} key=3002`);
    expect(run.stdout).toContain(`skipped  ${poisonEventId} key=3001`);
    expect(run.stdout).toContain('done: replayed 1, skipped 1');
    await waitFor(
      'the replayed event to be applied',
      async () => (await suite.provider.customer(3002))?.applications === 1,
    );
    await caughtUp();
    const customer = await suite.provider.customer(3002);
    expect(customer?.history.map((entry) => entry.idempotency_key)).toEqual([rejected.event_id]);
    expect(customer?.current).toEqual(expectedPayload(rejected));
    // Back in the main topic with its key and original headers, without the dlq_* ones.
    const copies = (await readToEnd(suite.kafka, suite.names.topic)).filter(
      (record) => record.headers.event_id === rejected.event_id,
    );
    expect(copies).toHaveLength(2);
    expect(copies[1]!.key).toBe('3002');
    expect(copies[1]!.headers).toEqual(copies[0]!.headers);
    expect(copies[1]!.value).toEqual(copies[0]!.value);

    const again = await runLoyaltySyncCli('replay-dlq.ts', [], cliEnv);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('done: replayed 0, skipped 0');
    await caughtUp();
    expect(await suite.provider.stats()).toMatchObject({
      applied: 2,
      replayed: 0,
      duplicate_applications: 0,
    });
    // Nothing went back to the dead-letter topic.
    expect(await deadLetters()).toHaveLength(2);
  }, 180_000);

  test('when one event id is replayed, then only that event goes back, and a later full replay applies each event once', async () => {
    await suite.provider.faults({ error_rate: 1, status: 400 });
    const first = profileEvent(3003, 1);
    const second = profileEvent(3004, 1);
    await produceEvents(suite.producer, suite.names.topic, [first, second]);
    await waitFor(
      'both refused events in the dead-letter topic',
      async () => (await deadLetters()).length === 4,
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
    await suite.provider.clearFaults();

    const one = await runLoyaltySyncCli('replay-dlq.ts', ['--event-id', first.event_id], cliEnv);

    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`replayed ${first.event_id} key=3003`);
    expect(one.stdout).toContain('done: replayed 1, skipped 0');
    await waitFor(
      'the chosen event to be applied',
      async () => (await suite.provider.customer(3003))?.applications === 1,
    );
    await caughtUp();
    expect(await suite.provider.customer(3004)).toBeUndefined();

    // The full replay still owns both records; the one applied already is skipped by its version.
    const all = await runLoyaltySyncCli('replay-dlq.ts', [], cliEnv);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('done: replayed 2, skipped 0');
    await waitFor(
      'the other event to be applied',
      async () => (await suite.provider.customer(3004))?.applications === 1,
    );
    await caughtUp();
    expect((await suite.provider.customer(3003))?.applications).toBe(1);
    expect(await suite.provider.stats()).toMatchObject({
      applied: 4,
      duplicate_applications: 0,
      max_applications_per_key: 1,
    });
  }, 180_000);
});
