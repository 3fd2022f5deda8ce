import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { createIdempotentProducer, createKafka, ensureTopics } from '@app/kafka';
import { createLogger } from '@app/service-kit';
import { startKafka, waitFor, type ServiceContainer } from '@app/testkit';

const MESSAGES = 300;
const RESTART_AFTER = 100;

describe('Kafka broker restart', () => {
  const topic = `foundation.restart.${randomUUID()}`;
  let broker: ServiceContainer;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    // A broker of its own: restarting the shared one would disturb other suites.
    broker = await startKafka();
    kafka = createKafka({
      brokers: broker.url,
      clientId: 'foundation-restart-test',
      logger: createLogger('foundation-restart-test', { level: 'fatal' }),
    });
    await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
    producer = createIdempotentProducer(kafka);
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await broker?.stop();
  });

  test('when the broker is stopped and started mid-production, then the producer loses nothing', async () => {
    let restart: Promise<void> | undefined;
    for (let seq = 0; seq < MESSAGES; seq += 1) {
      if (seq === RESTART_AFTER) restart = broker.restart();
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: `user-${seq % 7}`, value: JSON.stringify({ seq }) }],
      });
    }
    await restart;

    const received: number[] = [];
    const consumer = kafka.consumer({ groupId: `restart-check-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push((JSON.parse(message.value!.toString()) as { seq: number }).seq);
      },
    });
    await waitFor('every acknowledged message to be readable', () => received.length >= MESSAGES, {
      timeoutMs: 60_000,
    });
    await consumer.disconnect();

    expect(received).toHaveLength(MESSAGES);
    expect(new Set(received).size).toBe(MESSAGES);
  }, 240_000);
});
