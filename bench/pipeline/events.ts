/**
 * Synthetic ProfileUpdated events for the worker throughput runs: valid per @app/events, from the
 * with-loyalty endpoint, keyed by user id exactly as profile-api's relay produces them.
 */
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import {
  EVENT_HEADERS,
  PROFILE_EVENTS_SCHEMA_VERSION,
  PROFILE_UPDATED,
  parseProfileUpdated,
  type ProfileUpdatedEvent,
} from '@app/events';

const PRODUCE_CHUNK = 1_000;

export function syntheticEvent(userId: number, version: number): ProfileUpdatedEvent {
  return {
    event_id: randomUUID(),
    type: PROFILE_UPDATED,
    schema_version: PROFILE_EVENTS_SCHEMA_VERSION,
    occurred_at: new Date().toISOString(),
    user_id: userId,
    profile_version: version,
    changed_fields: ['first_name'],
    profile: {
      id: userId,
      email: `bench.${userId}@example.com`,
      first_name: `Bench-${version}`,
      last_name: `User${userId}`,
      email_allowed: version % 2 === 0,
      sms_allowed: true,
      whatsapp_allowed: false,
      call_allowed: null,
      phone: null,
      date_of_birth: '1990-12-10',
      gender: 'female',
      language_code: 'en',
      attributes: { tier: 'gold' },
      avatar: null,
      date_joined: '2024-01-01T00:00:00.000Z',
    },
    source: 'profile-with-loyalty',
  };
}

/**
 * `total` events over `users` users (ids 1..users), interleaved version by version, so every user's
 * events are in version order on its partition and every partition holds many users.
 */
export function eventStream(total: number, users: number): ProfileUpdatedEvent[] {
  const events: ProfileUpdatedEvent[] = [];
  for (let version = 1; events.length < total; version += 1) {
    for (let user = 1; user <= users && events.length < total; user += 1) {
      events.push(syntheticEvent(user, version));
    }
  }
  const check = parseProfileUpdated(JSON.stringify(events[0]));
  if (!check.ok) throw new Error(`synthetic event breaks the contract: ${check.reason}`);
  return events;
}

/** Produces the events keyed by user id (acks from all replicas), a chunk at a time. */
export async function produceEvents(
  producer: Producer,
  topic: string,
  events: readonly ProfileUpdatedEvent[],
): Promise<void> {
  for (let start = 0; start < events.length; start += PRODUCE_CHUNK) {
    await producer.send({
      topic,
      acks: -1,
      messages: events.slice(start, start + PRODUCE_CHUNK).map((event) => ({
        key: String(event.user_id),
        value: JSON.stringify(event),
        headers: {
          [EVENT_HEADERS.eventId]: event.event_id,
          [EVENT_HEADERS.eventType]: event.type,
          [EVENT_HEADERS.schemaVersion]: String(event.schema_version),
        },
      })),
    });
  }
}
