import type { Kafka } from 'kafkajs';
import type { ProfileUpdatedEvent } from '@app/events';
import { KafkaEventPublisher } from '../src/data-access/kafka-event-publisher.ts';

const TOPIC = 'profile.events.test';

function entry(version: number) {
  return { event: { event_id: `e${version}`, user_id: 7, profile_version: version } as ProfileUpdatedEvent };
}

/** A Kafka whose topic exists and whose producers answer sends with what `answers` says, in turn. */
function fakeKafka(answers: (Error | 'ok')[]) {
  const producers: { id: number; sends: number; disconnected: boolean }[] = [];
  const kafka = {
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      listTopics: async () => [TOPIC],
      fetchTopicMetadata: async () => ({
        topics: [{ name: TOPIC, partitions: [{ partitionId: 0, leader: 1 }] }],
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
        send: async () => {
          state.sends += 1;
          const answer = answers.shift() ?? 'ok';
          if (answer !== 'ok') throw answer;
          return [];
        },
      };
    },
  };
  return { kafka: kafka as unknown as Kafka, producers };
}

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
});
