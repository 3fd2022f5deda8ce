/** Topic names are configurable; these are the defaults both services agree on. */
export const DEFAULT_PROFILE_EVENTS_TOPIC = 'profile.events.v1';
export const PROFILE_EVENTS_PARTITIONS = 12;

export function deadLetterTopicFor(topic: string, consumerGroup: string): string {
  return `${topic}.${consumerGroup}.dlq`;
}

/** Kafka headers every ProfileUpdated record carries. */
export const EVENT_HEADERS = {
  eventId: 'event_id',
  eventType: 'event_type',
  schemaVersion: 'schema_version',
} as const;
