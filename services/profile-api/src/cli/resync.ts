// Re-sends users' current profiles to the loyalty card service through the normal event path:
//   node dist/cli/resync.js --user 42        (in the image; compose: docker compose run --rm profile-api ...)
//   node dist/cli/resync.js --all [--concurrency 8]
//   node --conditions=source services/profile-api/src/cli/resync.ts --all   (from a clone)
// It reads profile-api's own environment (MONGO_URL, REDIS_URL, KAFKA_BROKERS, PROFILE_EVENTS_TOPIC...).
import { parseArgs } from 'node:util';
import { connectRedis } from '@app/datastores';
import { createKafka } from '@app/kafka';
import { createLogger } from '@app/service-kit';
import { readConfig } from '../config.ts';
import { CachedUsers } from '../data-access/cached-users.ts';
import { KafkaEventPublisher } from '../data-access/kafka-event-publisher.ts';
import { connectProfileDatabase } from '../data-access/mongo.ts';
import { OutboxRepository } from '../data-access/outbox-repository.ts';
import { ProfileCache } from '../data-access/profile-cache.ts';
import { RedisLease } from '../data-access/redis-lease.ts';
import { UserRepository } from '../data-access/user-repository.ts';
import { OutboxRelay } from '../domain/outbox-relay.ts';
import { ResyncUseCase, type ResyncCounts, type UserResync } from '../domain/resync-use-case.ts';

const USAGE = `usage: node dist/cli/resync.js (--user <id> | --all) [--concurrency <n>]

Commits a ProfileUpdated event (source "resync", every field) carrying each user's current profile,
after any event still pending in the user's outbox, and publishes it; loyalty-sync sends it to the
loyalty card service whatever sync_all_updates says (not while the sync is disabled). Use it when
the sync was turned on late, or after the provider lost data. Safe to repeat.
Environment: profile-api's own (MONGO_URL, REDIS_URL, KAFKA_BROKERS, PROFILE_EVENTS_TOPIC, ...).`;

/** How often --all prints its counts. */
const PROGRESS_EVERY = 500;

function describeResult(userId: number, result: UserResync): string {
  switch (result.outcome) {
    case 'published':
      return `user ${userId}: published version ${result.event.profile_version} (event ${result.event.event_id})`;
    case 'committed':
      return `user ${userId}: committed version ${result.event.profile_version} (event ${result.event.event_id}); profile-api's relay publishes it`;
    case 'not-found':
      return `user ${userId}: not found`;
    case 'failed':
      return result.reason === 'outbox-full'
        ? `user ${userId}: not resynced, its outbox is full (Kafka away); run again once it drains`
        : `user ${userId}: not resynced, the profile kept changing; run again`;
  }
}

const summary = (counts: ResyncCounts) =>
  `${counts.users} users: published ${counts.published}, left for the relay ${counts.committed}, not found ${counts.notFound}, failed ${counts.failed}`;

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive integer`);
  return number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      all: { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if ((values.user === undefined) === !values.all) {
    console.error(USAGE);
    return 2;
  }
  const userId = positiveInteger('--user', values.user, 0);
  const concurrency = positiveInteger('--concurrency', values.concurrency, 8);

  const config = readConfig();
  const logger = createLogger('profile-api-resync', { level: process.env.LOG_LEVEL ?? 'warn' });
  const mongo = await connectProfileDatabase(config.mongoUrl);
  const redis = connectRedis(config.redisUrl, 'profile-api-resync');
  const publisher = new KafkaEventPublisher(
    createKafka({
      brokers: config.kafkaBrokers,
      clientId: 'profile-api-resync',
      logger,
      retry: { initialRetryTime: 200, retries: 3, maxRetryTime: 1_000 },
    }),
    config.profileEventsTopic,
    config.topicDurability,
  );
  // The relay's own fast path, under the same per-user lease as every profile-api replica.
  const relay = new OutboxRelay({
    outbox: new OutboxRepository(mongo),
    publisher,
    lease: new RedisLease(redis, { ttlMs: 15_000, waitMs: 10_000 }),
    logger,
    intervalMs: config.relayIntervalMs,
    graceMs: config.relayGraceMs,
  });
  try {
    // Asked once: with Kafka away, events are committed and left to profile-api's relay.
    const kafkaUp = await publisher.connect().then(
      () => true,
      () => false,
    );
    if (!kafkaUp) console.log(`Kafka (${config.kafkaBrokers}) is unreachable: events are left for the relay`);
    const resync = new ResyncUseCase({
      // Through profile-api's profile cache, so its copy moves to the resynced version as after any commit.
      users: new CachedUsers(
        new UserRepository(mongo, { outboxMaxPending: config.outboxMaxPendingPerUser }),
        new ProfileCache(redis, config.profileCacheTtlSeconds),
      ),
      publishOutbox: (id) => (kafkaUp ? relay.flush(id) : Promise.resolve(0)),
    });

    if (values.user !== undefined) {
      const result = await resync.resyncUser(userId);
      console.log(describeResult(userId, result));
      return result.outcome === 'published' || result.outcome === 'committed' ? 0 : 1;
    }
    console.log(`resyncing every user, ${concurrency} at a time`);
    const counts = await resync.resyncAll({
      concurrency,
      pageSize: Math.max(100, concurrency * 10),
      onUser: (id, result, sofar) => {
        if (result.outcome === 'failed' || result.outcome === 'not-found')
          console.log(describeResult(id, result));
        if (sofar.users % PROGRESS_EVERY === 0) console.log(`progress: ${summary(sofar)}`);
      },
    });
    console.log(`done: ${summary(counts)}`);
    return counts.failed === 0 ? 0 : 1;
  } finally {
    await relay.stop();
    await publisher.disconnect().catch(() => undefined);
    await Promise.allSettled([redis.quit(), mongo.close()]);
  }
}

if (/resync\.[jt]s$/.test(process.argv[1] ?? '')) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`resync failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
