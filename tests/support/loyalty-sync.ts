import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, Producer, RecordMetadata } from 'kafkajs';
import {
  EVENT_HEADERS,
  PROFILE_EVENTS_SCHEMA_VERSION,
  PROFILE_UPDATED,
  deadLetterTopicFor,
  type ProfileSnapshot,
  type ProfileUpdateSource,
  type ProfileUpdatedEvent,
} from '@app/events';
import { mongoUrlFor } from './env.ts';
import type { CustomerView, SimulatorStats } from '@app/provider-sim';
import { AppliedVersionStore } from '../../services/loyalty-sync/src/data-access/applied-version-store.ts';

export const LOYALTY_API_KEY = 'loyalty-test-api-key';

export interface SuiteNames {
  topic: string;
  group: string;
  deadLetterTopic: string;
  replayGroup: string;
  database: string;
}

/** A topic, group and database of its own per suite. */
export function suiteNames(name: string): SuiteNames {
  const suffix = randomUUID().slice(0, 8);
  const topic = `loyalty.${name}.${suffix}`;
  const group = `loyalty-sync-${name}-${suffix}`;
  return {
    topic,
    group,
    deadLetterTopic: deadLetterTopicFor(topic, group),
    replayGroup: `${group}-replay`,
    database: `loyalty_${name}_${suffix}`,
  };
}

export interface WorkerEnvOptions {
  brokers: string;
  redisUrl: string;
  providerUrl: string;
  syncAllUpdates?: boolean;
  extra?: Record<string, string>;
}

/**
 * The CUSTOMER_LOYALTY_CARD_SERVICE setting that points at a provider-sim with the key it accepts:
 * what a worker's environment starts with and what suites write through the admin API.
 */
export function loyaltyCardSetting(
  providerUrl: string,
  { enabled = true, syncAllUpdates = false }: { enabled?: boolean; syncAllUpdates?: boolean } = {},
) {
  return {
    enabled,
    base_url: providerUrl,
    api_key: LOYALTY_API_KEY,
    timeout_ms: 2_000,
    sync_all_updates: syncAllUpdates,
  };
}

/** Environment of a worker process for a suite. */
export function workerEnv(names: SuiteNames, options: WorkerEnvOptions): Record<string, string> {
  return {
    KAFKA_BROKERS: options.brokers,
    MONGO_URL: mongoUrlFor(names.database),
    REDIS_URL: options.redisUrl,
    PROFILE_EVENTS_TOPIC: names.topic,
    CONSUMER_GROUP: names.group,
    CUSTOMER_LOYALTY_CARD_SERVICE: JSON.stringify(
      loyaltyCardSetting(options.providerUrl, { syncAllUpdates: options.syncAllUpdates }),
    ),
    ...options.extra,
  };
}

export interface EventOverrides {
  source?: ProfileUpdateSource;
  eventId?: string;
  profile?: Partial<ProfileSnapshot>;
}

/** A valid ProfileUpdated event; profile fields derive from the version so each update differs. */
export function profileEvent(
  userId: number,
  version: number,
  overrides: EventOverrides = {},
): ProfileUpdatedEvent {
  return {
    event_id: overrides.eventId ?? randomUUID(),
    type: PROFILE_UPDATED,
    schema_version: PROFILE_EVENTS_SCHEMA_VERSION,
    occurred_at: new Date().toISOString(),
    user_id: userId,
    profile_version: version,
    changed_fields: ['first_name'],
    profile: {
      id: userId,
      email: `user${userId}@example.com`,
      first_name: `Ada-${version}`,
      last_name: 'Lovelace',
      email_allowed: version % 2 === 0,
      sms_allowed: true,
      whatsapp_allowed: false,
      call_allowed: null,
      phone: '+905551112233',
      phone_verified: true,
      date_of_birth: '1990-12-10',
      gender: 'female',
      language_code: 'en',
      attributes: { tier: 'gold', note: 'not for the provider' },
      avatar: `/media/avatars/${userId}.png`,
      date_joined: '2024-01-01T00:00:00.000Z',
      ...overrides.profile,
    },
    source: overrides.source ?? 'profile-with-loyalty',
  };
}

/** What the loyalty card service must receive for an event: the loyalty fields and the version, nothing else. */
export function expectedPayload(event: ProfileUpdatedEvent): Record<string, unknown> {
  const { profile } = event;
  return {
    first_name: profile.first_name,
    last_name: profile.last_name,
    email: profile.email,
    // Only a number confirmed by a code is a loyalty identity.
    phone: profile.phone_verified === true ? profile.phone : null,
    date_of_birth: profile.date_of_birth,
    gender: profile.gender,
    language_code: profile.language_code,
    email_allowed: profile.email_allowed,
    sms_allowed: profile.sms_allowed,
    whatsapp_allowed: profile.whatsapp_allowed,
    call_allowed: profile.call_allowed,
    profile_version: event.profile_version,
  };
}

export function eventHeaders(event: ProfileUpdatedEvent): IHeaders {
  return {
    [EVENT_HEADERS.eventId]: event.event_id,
    [EVENT_HEADERS.eventType]: event.type,
    [EVENT_HEADERS.schemaVersion]: String(event.schema_version),
  };
}

/** Produces events keyed by user id (the profile-api relay's shape), in the order given. */
export async function produceEvents(
  producer: Producer,
  topic: string,
  events: ProfileUpdatedEvent[],
  chunk = 100,
): Promise<RecordMetadata[]> {
  const metadata: RecordMetadata[] = [];
  for (let start = 0; start < events.length; start += chunk) {
    metadata.push(
      ...(await producer.send({
        topic,
        acks: -1,
        messages: events.slice(start, start + chunk).map((event) => ({
          key: String(event.user_id),
          value: JSON.stringify(event),
          headers: eventHeaders(event),
        })),
      })),
    );
  }
  return metadata;
}

/** `count` users with `versions` consecutive updates each, interleaved user by user. */
export function updateStream(firstUserId: number, users: number, versions: number): ProfileUpdatedEvent[] {
  const events: ProfileUpdatedEvent[] = [];
  for (let version = 1; version <= versions; version += 1) {
    for (let user = 0; user < users; user += 1) events.push(profileEvent(firstUserId + user, version));
  }
  return events;
}

export type { CustomerView, HistoryEntry } from '@app/provider-sim';

/** The test's view of provider-sim's loyalty card API and its fault knobs. */
export class LoyaltyProvider {
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  async stats(): Promise<SimulatorStats> {
    return (await (await fetch(`${this.url}/stats`)).json()) as SimulatorStats;
  }

  async customer(id: number | string): Promise<CustomerView | undefined> {
    const response = await fetch(`${this.url}/customers/${id}`);
    if (response.status === 404) return undefined;
    return (await response.json()) as CustomerView;
  }

  async faults(knobs: { latency_ms?: number; error_rate?: number; status?: number; down?: boolean }) {
    const response = await fetch(`${this.url}/_faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(knobs),
    });
    if (response.status !== 200) throw new Error(`faults: ${response.status}`);
  }

  async clearFaults(): Promise<void> {
    await fetch(`${this.url}/_faults`, { method: 'DELETE' });
  }
}

export interface DeliveryReport {
  expected: number;
  applied: number;
  /** Expected updates the provider never applied. */
  lost: number;
  /** Updates applied more than once (per idempotency key), counted by the provider and by the histories. */
  doubleApplied: number;
  /** Users whose applied versions are not strictly increasing. */
  outOfOrderUsers: number;
  /** Users whose current version at the provider is not the last one produced. */
  staleUsers: number;
}

/** Compares what was produced with what the provider applied, user by user. */
export async function deliveryReport(
  provider: LoyaltyProvider,
  produced: ProfileUpdatedEvent[],
): Promise<DeliveryReport> {
  const byUser = new Map<number, ProfileUpdatedEvent[]>();
  for (const event of produced) byUser.set(event.user_id, [...(byUser.get(event.user_id) ?? []), event]);
  const stats = await provider.stats();
  const report: DeliveryReport = {
    expected: produced.length,
    applied: 0,
    lost: 0,
    doubleApplied: stats.duplicate_applications,
    outOfOrderUsers: 0,
    staleUsers: 0,
  };
  for (const [userId, events] of byUser) {
    const customer = await provider.customer(userId);
    const history = customer?.history ?? [];
    const keys = history.map((entry) => entry.idempotency_key);
    report.applied += keys.length;
    report.lost += events.filter((event) => !keys.includes(event.event_id)).length;
    report.doubleApplied += keys.length - new Set(keys).size;
    const versions = history.map((entry) => entry.payload.profile_version as number);
    if (versions.some((version, index) => index > 0 && version <= versions[index - 1]!)) {
      report.outOfOrderUsers += 1;
    }
    const last = Math.max(...events.map((event) => event.profile_version));
    if (customer?.current.profile_version !== last) report.staleUsers += 1;
  }
  return report;
}

/** The report of a delivery with nothing lost, applied twice, out of order or left behind. */
export function deliveredOnceInOrder(count: number): DeliveryReport {
  return { expected: count, applied: count, lost: 0, doubleApplied: 0, outOfOrderUsers: 0, staleUsers: 0 };
}

/** True once the group has committed every partition up to the topic's end. */
export async function groupCaughtUp(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.every(({ partition, high, low }) => {
      const offset = committed?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1';
      return high === low || BigInt(offset) >= BigInt(high);
    });
  } finally {
    await admin.disconnect();
  }
}

export interface TopicRecord {
  partition: number;
  offset: string;
  key: string | undefined;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Reads a topic from its start to its current end with a throw-away group. */
export async function readToEnd(kafka: Kafka, topic: string): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const pending = new Map(
    ends
      .filter(({ high, low }) => BigInt(high) > BigInt(low))
      .map(({ partition, high }) => [partition, BigInt(high)]),
  );
  const records: TopicRecord[] = [];
  if (pending.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `test-read-${randomUUID()}` });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const end = pending.get(partition);
      if (end === undefined || BigInt(message.offset) >= end) return;
      records.push({
        partition,
        offset: message.offset,
        key: message.key?.toString(),
        value: message.value,
        headers: Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        ),
      });
      if (BigInt(message.offset) + 1n >= end) {
        pending.delete(partition);
        if (pending.size === 0) done();
      }
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      finished,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`could not read ${topic} to its end`)), 30_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** Where the worker keeps a user's last applied version (Redis); tests drop it to simulate its loss. */
export function appliedVersionKey(consumerGroup: string, userId: number): string {
  return AppliedVersionStore.keyOf(consumerGroup, userId);
}
