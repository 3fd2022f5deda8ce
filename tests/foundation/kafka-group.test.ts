import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { createIdempotentProducer, createKafka, ensureTopics } from '@app/kafka';
import { createLogger } from '@app/service-kit';
import { waitFor } from '@app/testkit';
import { stackUrls } from '../support/env.ts';

const MESSAGES = 1_000;
const KEYS = 40;
const PARTITIONS = 12;

interface Receipt {
  member: number;
  key: string;
  seq: number;
}

describe('Kafka broker', () => {
  const topic = `foundation.group.${randomUUID()}`;
  const groupId = `foundation-${randomUUID()}`;
  let kafka: Kafka;
  let producer: Producer;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    kafka = createKafka({
      brokers: stackUrls().kafkaBrokers,
      clientId: 'foundation-test',
      logger: createLogger('foundation-test', { level: 'warn' }),
    });
    await ensureTopics(kafka, [{ topic, numPartitions: PARTITIONS }]);
    producer = createIdempotentProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.disconnect()));
    await producer.disconnect();
  });

  test('when 1,000 keyed messages go to a 2-member group, then each arrives once and in per-key order', async () => {
    const metadata = await kafka.admin();
    await metadata.connect();
    const [topicMetadata] = (await metadata.fetchTopicMetadata({ topics: [topic] })).topics;
    await metadata.disconnect();
    expect(topicMetadata?.partitions).toHaveLength(PARTITIONS);

    const receipts: Receipt[] = [];
    const assignments = new Map<number, number>();
    for (const member of [0, 1]) {
      const consumer = kafka.consumer({ groupId });
      consumers.push(consumer);
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        assignments.set(member, payload.memberAssignment[topic]?.length ?? 0);
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const { key, seq } = JSON.parse(message.value!.toString()) as { key: string; seq: number };
          receipts.push({ member, key, seq });
        },
      });
    }
    // Produce only once both members share the partitions, so no rebalance replays a message.
    await waitFor(
      'both members to hold partitions',
      () =>
        assignments.get(0)! > 0 &&
        assignments.get(1)! > 0 &&
        assignments.get(0)! + assignments.get(1)! === PARTITIONS,
      { timeoutMs: 30_000 },
    );

    const sequenceOfKey = new Map<string, number>();
    const messages = Array.from({ length: MESSAGES }, (_, index) => {
      const key = `user-${index % KEYS}`;
      const seq = sequenceOfKey.get(key) ?? 0;
      sequenceOfKey.set(key, seq + 1);
      return { key, value: JSON.stringify({ key, seq }) };
    });
    for (let start = 0; start < MESSAGES; start += 100) {
      await producer.send({ topic, acks: -1, messages: messages.slice(start, start + 100) });
    }

    await waitFor('every message to be consumed', () => receipts.length >= MESSAGES, { timeoutMs: 30_000 });

    expect(receipts).toHaveLength(MESSAGES);
    const distinct = new Set(receipts.map(({ key, seq }) => `${key}#${seq}`));
    expect(distinct.size).toBe(MESSAGES);
    for (const [key, count] of sequenceOfKey) {
      const seen = receipts.filter((receipt) => receipt.key === key).map((receipt) => receipt.seq);
      expect(seen).toEqual(Array.from({ length: count }, (_, seq) => seq));
    }
    expect(new Set(receipts.map((receipt) => receipt.member)).size).toBe(2);
  }, 90_000);
});
