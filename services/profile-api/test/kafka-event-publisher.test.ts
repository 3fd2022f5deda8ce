import type { Kafka } from 'kafkajs';
import type { ProfileUpdatedEvent } from '@app/events';
import { KafkaEventPublisher } from '../src/data-access/kafka-event-publisher.ts';

const TOPIC = 'profile.events.test';

function entry(version: number, userId = 7) {
  return {
    event: {
      event_id: `e${userId}-${version}`,
      user_id: userId,
      profile_version: version,
    } as ProfileUpdatedEvent,
  };
}

/** Kafka's answer to a send: 'ok' lists every partition sent; `{ omit }` leaves those out, as kafkajs 2.2.4 can. */
type Answer = Error | 'ok' | { omit: number[] };

/** A Kafka whose topic exists and whose producers answer sends with what `answers` says, in turn. */
function fakeKafka(answers: Answer[], onSend?: (count: number) => void) {
  const producers: { id: number; sends: number; disconnected: boolean }[] = [];
  const sent: { partition: number; key: string }[][] = [];
  const kafka = {
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      listTopics: async () => [TOPIC],
      fetchTopicMetadata: async () => ({
        topics: [
          {
            name: TOPIC,
            partitions: Array.from({ length: 12 }, (_, partitionId) => ({ partitionId, leader: 1 })),
          },
        ],
      }),
    }),
    producer: () => {
      const state = { id: producers.length + 1, sends: 0, disconnected: false };
      producers.push(state);
      return {
        connect: async () => undefined,
        disconnect: async () => {
          state.disconnected = true;
        },
        send: async ({ messages }: { messages: { partition: number; key: string }[] }) => {
          state.sends += 1;
          sent.push(messages.map(({ partition, key }) => ({ partition, key })));
          onSend?.(sent.length);
          const answer = answers.shift() ?? 'ok';
          if (answer instanceof Error) throw answer;
          const omitted = answer === 'ok' ? [] : answer.omit;
          return [...new Set(messages.map((message) => message.partition))]
            .filter((partition) => !omitted.includes(partition))
            .map((partition) => ({ topicName: TOPIC, partition, errorCode: 0 }));
        },
      };
    },
  };
  return { kafka: kafka as unknown as Kafka, producers, sent };
}

/** Users whose keys hash to different partitions of the fake topic's 12. */
const USER_A = 1;
const USER_B = 2;

function protocolError(type: string): Error {
  return Object.assign(new Error(type), { type });
}

describe('KafkaEventPublisher', () => {
  test('when a send fails with OUT_OF_ORDER_SEQUENCE_NUMBER, then the next publish goes through a new producer', async () => {
    const { kafka, producers } = fakeKafka([protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'), 'ok']);
    const publisher = new KafkaEventPublisher(kafka, TOPIC);

    await expect(publisher.publish([entry(1)])).rejects.toThrow('OUT_OF_ORDER_SEQUENCE_NUMBER');
    await publisher.publish([entry(1)]);

    expect(producers).toEqual([
      { id: 1, sends: 1, disconnected: true },
      { id: 2, sends: 1, disconnected: false },
    ]);
  });

  test('when a send fails for another reason (a broker away), then the next publish goes through a new producer too', async () => {
    const { kafka, producers } = fakeKafka([protocolError('NOT_ENOUGH_REPLICAS'), 'ok', 'ok']);
    const publisher = new KafkaEventPublisher(kafka, TOPIC);

    await expect(publisher.publish([entry(1)])).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    await publisher.publish([entry(1)]);
    await publisher.publish([entry(2)]);

    expect(producers).toEqual([
      { id: 1, sends: 1, disconnected: true },
      { id: 2, sends: 2, disconnected: false },
    ]);
  });

  test('when publishes of several users arrive while a send is in flight, then the next round sends them all in one send', async () => {
    const { kafka, sent } = fakeKafka([]);
    const publisher = new KafkaEventPublisher(kafka, TOPIC);
    await publisher.connect();

    await Promise.all([
      publisher.publish([entry(1, USER_A)]),
      publisher.publish([entry(1, USER_B)]),
      publisher.publish([entry(2, USER_A)]),
    ]);

    expect(sent.map((send) => send.map(({ key }) => key).sort())).toEqual([
      [String(USER_A)],
      [String(USER_A), String(USER_B)],
    ]);
    expect(new Set(sent[1]!.map(({ partition }) => partition)).size).toBe(2);
  });

  test("when Kafka's answer leaves a partition out, then only that partition's publishes fail and the next send goes through a new producer", async () => {
    const partitionOf = async (userId: number) => {
      const probe = fakeKafka([]);
      await new KafkaEventPublisher(probe.kafka, TOPIC).publish([entry(1, userId)]);
      return probe.sent[0]![0]!.partition;
    };
    const { kafka, producers, sent } = fakeKafka(['ok', { omit: [await partitionOf(USER_A)] }, 'ok']);
    const publisher = new KafkaEventPublisher(kafka, TOPIC);
    await publisher.connect();

    const first = publisher.publish([entry(1, USER_B)]);
    const round = await Promise.allSettled([
      publisher.publish([entry(1, USER_A)]),
      publisher.publish([entry(2, USER_B)]),
    ]);
    await first;
    await publisher.publish([entry(1, USER_A)]);

    expect(sent.map((send) => send.length)).toEqual([1, 2, 1]);
    expect(round[0]).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/did not acknowledge partition/) },
    });
    expect(round[1]).toMatchObject({ status: 'fulfilled' });
    expect(producers.map(({ sends, disconnected }) => ({ sends, disconnected }))).toEqual([
      { sends: 2, disconnected: true },
      { sends: 1, disconnected: false },
    ]);
  });

  test('when the producer is idle, then a publish goes at once; when a round carried several, then the next one lingers for more', async () => {
    const lingerMs = 300;
    const sentAt: number[] = [];
    let late: Promise<void> | undefined;
    const publisher: KafkaEventPublisher = new KafkaEventPublisher(
      fakeKafka([], (count) => {
        sentAt.push(performance.now());
        // While the busy round (the 3rd send) is in flight, one more publish arrives.
        if (count === 3) late = publisher.publish([entry(9, USER_B)]);
      }).kafka,
      TOPIC,
      undefined,
      { lingerMs },
    );
    await publisher.connect();

    const idleStart = performance.now();
    await publisher.publish([entry(1, USER_A)]);
    const idleMs = performance.now() - idleStart;
    // One goes out alone; the four that arrived meanwhile make a busy round.
    await Promise.all([2, 3, 4, 5, 6].map((version) => publisher.publish([entry(version, USER_A)])));
    await late;

    expect(idleMs).toBeLessThan(lingerMs / 2);
    expect(sentAt).toHaveLength(4);
    expect(sentAt[3]! - sentAt[2]!).toBeGreaterThanOrEqual(lingerMs - 10);
    expect(sentAt[2]! - sentAt[1]!).toBeLessThan(lingerMs / 2);
  });
});
