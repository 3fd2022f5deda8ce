import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, OffsetsByTopicPartition } from 'kafkajs';
import { EVENT_HEADERS, parseProfileUpdated } from '@app/events';
import { Slots, type Logger } from '@app/service-kit';
import { SpanKind, contextFrom, inSpan } from '@app/telemetry';
import type { BreakerState } from '../../data-access/loyalty-card-client.ts';
import type { SyncUseCase } from '../../domain/sync-use-case.ts';
import { BREAKER_STATE_VALUE, type LoyaltySyncMetrics } from '../../metrics.ts';
import { headerText, type DeadLetterPublisher } from './dead-letters.ts';
import { handleInKeyOrder } from './in-key-order.ts';

export interface CircuitSignals {
  state(): BreakerState;
  onStateChange(listener: (state: BreakerState) => void): void;
}

export interface ProfileEventsConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  fromBeginning: boolean;
  partitionsConcurrently: number;
  /** Records being handled at once in this process, across its partitions. */
  maxInFlight: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  fetchMaxWaitMs: number;
  useCase: Pick<SyncUseCase, 'handle'>;
  deadLetters: Pick<DeadLetterPublisher, 'publish'>;
  circuit: CircuitSignals;
  metrics: LoyaltySyncMetrics;
  logger: Logger;
  /** How often the offsets resolved so far are committed; 1 s unless set. */
  commitIntervalMs?: number;
  /** Pause of a partition after a database/settings failure or a failing provider, before it is tried again. */
  retryPauseMs?: number;
  /** The consumer crashed and kafkajs will not restart it: the process must end so it is restarted. */
  onFatal: (error: Error) => void;
}

type Verdict = 'done' | 'retry-later' | 'stop';

/**
 * The Kafka entry point. Partitions are consumed concurrently, and within a partition records of
 * different users (keys) are handled concurrently, up to `maxInFlight` in the process; a user's
 * own events are handled one after the other, in order. Offsets advance only over the finished
 * prefix: records of other users that finished past an unfinished one are fetched again and
 * skipped as stale (their applied version is already recorded).
 *
 * Commits never hold up the fetch loop. kafkajs's auto-commit sends a commit after every batch, and
 * its next fetch waits for it: with records arriving all the time that is one commit per batch, a
 * log append at the group coordinator each, and under load the largest wait between a record
 * landing and its handling. Auto-commit is off; the offsets resolved so far are committed once a
 * second in the background, when the group starts to rebalance, and before the member leaves.
 * What a crash leaves uncommitted (a second at most) is handled again and skipped as stale.
 *
 * Offsets are resolved by hand (eachBatch, eachBatchAutoResolve off): a record counts as consumed
 * only once it was applied, skipped or dead-lettered. When the circuit is open the record is
 * left unresolved, its partition is paused and the batch ends without throwing; after resume
 * kafkajs fetches again from the first unresolved offset. Nothing is thrown for a bad record
 * either (kafkajs#1415): it goes to the dead-letter topic.
 */
export class ProfileEventsConsumer {
  private readonly options: ProfileEventsConsumerOptions;
  private readonly logger: Logger;
  private consumer: Consumer | undefined;
  private joined = false;
  private assigned: number[] = [];
  private readonly stopping = new AbortController();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly slots: Slots;
  /** Commits the offsets resolved so far (kafkajs's, from any batch: it outlives the batch). */
  private commitResolved: ((offsets: OffsetsByTopicPartition) => Promise<void>) | undefined;
  private resolvedOffsets: (() => OffsetsByTopicPartition) | undefined;
  private committing: Promise<void> | undefined;
  private commitAgain: Promise<void> | undefined;
  private commitTimer: NodeJS.Timeout | undefined;

  constructor(options: ProfileEventsConsumerOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'profile-events-consumer' });
    this.slots = new Slots(options.maxInFlight);
  }

  /** Joined its group and consuming. */
  isReady(): boolean {
    return this.joined;
  }

  pausedPartitions(): number {
    if (!this.consumer) return 0;
    return this.consumer
      .paused()
      .filter(({ topic }) => topic === this.options.topic)
      .reduce((count, { partitions }) => count + partitions.length, 0);
  }

  async start(): Promise<void> {
    const { kafka, topic, groupId, sessionTimeoutMs, heartbeatIntervalMs, fetchMaxWaitMs } = this.options;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      maxWaitTimeInMs: fetchMaxWaitMs,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = payload.memberAssignment[topic] ?? [];
      this.joined = true;
      this.logger.info({ groupId, partitions: this.assigned }, 'joined the consumer group');
      // Newly assigned partitions start paused while the provider is known to be down.
      if (this.options.circuit.state() === 'open') this.pauseAll('circuit-open');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      if (payload.restart) {
        this.logger.warn({ err: payload.error }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      this.logger.fatal({ err: payload.error }, 'consumer crashed and will not restart');
      this.options.onFatal(payload.error);
    });
    consumer.on(consumer.events.DISCONNECT, () => {
      this.joined = false;
    });
    this.options.circuit.onStateChange((state) => {
      this.options.metrics.breakerState.set(BREAKER_STATE_VALUE[state]);
      this.options.metrics.breakerTransitions.inc({ state });
      if (state === 'open') this.pauseAll('circuit-open');
      else this.resumeAll(state);
    });

    // The members' last progress before the group moves partitions (kafkajs has stopped fetching by then).
    consumer.on(consumer.events.REBALANCING, () => void this.commitNow('rebalance'));

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning });
    await consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatchAutoResolve: false,
      autoCommit: false,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.commitTimer = setInterval(
      () => void this.commitNow('interval'),
      this.options.commitIntervalMs ?? 1_000,
    );
    this.commitTimer.unref();
  }

  /**
   * Commits what was resolved and not yet committed, one commit at a time: a call during one in
   * flight gets the next, which reads the offsets resolved by then. A failure only leaves those
   * records to be handled again (in a rebalance, say: their next owner skips them as stale).
   */
  private commitNow(reason: string): Promise<void> {
    const commit = this.commitResolved;
    const resolved = this.resolvedOffsets;
    if (!commit || !resolved) return Promise.resolve();
    if (this.committing) {
      this.commitAgain ??= this.committing.then(() => {
        this.commitAgain = undefined;
        return this.commitNow(reason);
      });
      return this.commitAgain;
    }
    const commitment = (async () => {
      try {
        const offsets = resolved();
        if (offsets.topics.length > 0) await commit(offsets);
      } catch (error) {
        this.logger.debug({ err: error, reason }, 'offsets not committed; their records may be seen again');
      }
    })().finally(() => {
      // Always after the assignment below, even when nothing was awaited.
      if (this.committing === commitment) this.committing = undefined;
    });
    this.committing = commitment;
    return this.committing;
  }

  /** Finishes the record in hand, commits what was handled and leaves the group. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.commitTimer);
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    // What finished before now; batches still running commit their own progress as they end.
    await this.commitNow('stop');
    await this.consumer?.disconnect();
    this.joined = false;
  }

  private async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
    commitOffsetsIfNecessary,
    uncommittedOffsets,
  }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    this.commitResolved = commitOffsetsIfNecessary;
    this.resolvedOffsets = uncommittedOffsets;
    // Heartbeats run one at a time, behind the handling, and coalesce, so a long batch keeps the
    // member in its group. The first failure (a rebalance, say) stops the batch and is rethrown
    // to kafkajs. The batch's end does not wait for one in flight.
    let progress = Promise.resolve();
    let progressQueued = false;
    let progressFailure: { error: unknown } | undefined;
    const reportProgress = () => {
      if (progressQueued || progressFailure) return;
      progressQueued = true;
      progress = progress
        .then(async () => {
          progressQueued = false;
          await heartbeat();
        })
        .catch((error: unknown) => {
          progressFailure ??= { error };
        });
    };
    await handleInKeyOrder({
      items: batch.messages,
      keyOf: (message) => message.key?.toString('utf8') ?? `offset:${message.offset}`,
      handle: async (message) => (await this.handleRecord(topic, partition, message)) === 'done',
      slots: this.slots,
      mayStart: () =>
        isRunning() &&
        !isStale() &&
        !this.stopping.signal.aborted &&
        !progressFailure &&
        !this.isPaused(topic, partition),
      onFinishedInOrder: (message) => {
        resolveOffset(message.offset);
        const lag = BigInt(batch.highWatermark) - BigInt(message.offset) - 1n;
        this.options.metrics.consumerLag.set({ partition: String(partition) }, Number(lag > 0n ? lag : 0n));
        reportProgress();
      },
    });
    // Stopping: kafkajs leaves the group as soon as the batches end, so their progress is committed now.
    if (!isRunning() || this.stopping.signal.aborted) await this.commitNow('stop');
    if (progressFailure) throw progressFailure.error;
  }

  /**
   * One consumer span per record, child of the context the record carries (`traceparent` header: the
   * update that caused it), so the provider call and the DLQ publish join that trace. kafkajs's own
   * instrumentation cannot: with eachBatch it only links records to its batch span. A record handled
   * again (circuit open, retry later) adds one span per attempt to the same trace.
   */
  private handleRecord(topic: string, partition: number, message: KafkaMessage): Promise<Verdict> {
    return inSpan(
      `process ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        parent: contextFrom(message.headers),
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.consumer.group.name': this.options.groupId,
          'messaging.kafka.offset': message.offset,
          'messaging.kafka.message.key': message.key?.toString('utf8'),
        },
      },
      async (span) => {
        const verdict = await this.handleMessage(topic, partition, message);
        span.setAttribute('app.record.verdict', verdict);
        return verdict;
      },
    );
  }

  private async handleMessage(topic: string, partition: number, message: KafkaMessage): Promise<Verdict> {
    const { metrics, deadLetters, useCase } = this.options;
    const parsed = parseProfileUpdated(message.value);
    const log = this.logger.child({
      partition,
      offset: message.offset,
      event_id: parsed.ok ? parsed.event.event_id : headerText(message.headers, EVENT_HEADERS.eventId),
    });
    if (!parsed.ok) {
      await deadLetters.publish(
        { topic, partition, message },
        { reason: 'poison', error: parsed.reason, attempts: 1 },
      );
      metrics.eventsDeadLettered.inc({ reason: 'poison' });
      log.warn({ reason: parsed.reason }, 'poison message dead-lettered');
      return 'done';
    }
    const { event } = parsed;
    let outcome;
    try {
      outcome = await useCase.handle(event, this.stopping.signal);
    } catch (error) {
      // The database or the settings failed, not the event: try the same record again shortly.
      log.error({ err: error }, 'event handling failed; its partition pauses and retries');
      this.pauseForAWhile(topic, partition, 'infrastructure');
      return 'retry-later';
    }
    const context = { user_id: event.user_id, profile_version: event.profile_version, source: event.source };
    switch (outcome.kind) {
      case 'applied':
        metrics.eventsApplied.inc({ result: outcome.result });
        log.info({ ...context, result: outcome.result, attempts: outcome.attempts }, 'event synced');
        return 'done';
      case 'skipped':
        metrics.eventsSkipped.inc({ reason: outcome.reason });
        log.debug({ ...context, reason: outcome.reason, last_applied: outcome.lastApplied }, 'event skipped');
        return 'done';
      case 'dead-letter':
        await deadLetters.publish(
          { topic, partition, message },
          { reason: outcome.reason, error: outcome.error, attempts: outcome.attempts },
        );
        metrics.eventsDeadLettered.inc({ reason: outcome.reason });
        log.warn(
          { ...context, reason: outcome.reason, error: outcome.error, attempts: outcome.attempts },
          'event dead-lettered',
        );
        return 'done';
      case 'unavailable':
        log.debug(context, 'circuit open; partition paused until the provider recovers');
        this.pauseOne(topic, partition, 'circuit-rejected');
        // The circuit may have closed while this call was being refused: resume at once then.
        if (this.options.circuit.state() === 'closed') this.resumeOne(topic, partition);
        return 'retry-later';
      case 'deferred':
        log.warn(
          { ...context, error: outcome.error, attempts: outcome.attempts },
          'provider failing for every call; partition paused, event retried shortly',
        );
        this.pauseForAWhile(topic, partition, 'provider-failing');
        return 'retry-later';
      case 'interrupted':
        return 'stop';
    }
  }

  private isPaused(topic: string, partition: number): boolean {
    return (this.consumer?.paused() ?? []).some(
      (paused) => paused.topic === topic && paused.partitions.includes(partition),
    );
  }

  /** Always with an explicit partition list: kafkajs forgets a topic-wide pause on the next partial one. */
  private pauseAll(cause: string): void {
    if (this.assigned.length === 0) return;
    this.tryConsumer((consumer) =>
      consumer.pause([{ topic: this.options.topic, partitions: this.assigned }]),
    );
    this.options.metrics.partitionPauses.inc({ cause });
    this.logger.warn({ partitions: this.assigned, cause }, 'partitions paused');
  }

  private resumeAll(state: BreakerState): void {
    if (this.pausedPartitions() === 0) return;
    this.tryConsumer((consumer) => consumer.resume([{ topic: this.options.topic }]));
    this.logger.info({ circuit: state }, 'partitions resumed');
  }

  private pauseOne(topic: string, partition: number, cause: string): void {
    this.tryConsumer((consumer) => consumer.pause([{ topic, partitions: [partition] }]));
    this.options.metrics.partitionPauses.inc({ cause });
  }

  private resumeOne(topic: string, partition: number): void {
    this.tryConsumer((consumer) => consumer.resume([{ topic, partitions: [partition] }]));
  }

  private pauseForAWhile(topic: string, partition: number, cause: string): void {
    this.pauseOne(topic, partition, cause);
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      if (this.options.circuit.state() !== 'open') this.resumeOne(topic, partition);
    }, this.options.retryPauseMs ?? 2_000);
    this.resumeTimers.add(timer);
  }

  private tryConsumer(action: (consumer: Consumer) => void): void {
    if (!this.consumer) return;
    try {
      action(this.consumer);
    } catch (error) {
      // Before run() or after a crash there is no group to pause; the next join re-applies the state.
      this.logger.debug({ err: error }, 'pause/resume ignored');
    }
  }
}
