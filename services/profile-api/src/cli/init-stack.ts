// One-shot set-up of the local stack (docker-compose.yml's `init`, run with profile-api's image):
// the Kafka topics, a demo user and the loyalty setting. Safe to re-run: what exists is left as is.
//   node dist/cli/init-stack.js   (or: node --conditions=source services/profile-api/src/cli/init-stack.ts)
import Joi from 'joi';
import { DEFAULT_PROFILE_EVENTS_TOPIC, PROFILE_EVENTS_PARTITIONS, deadLetterTopicFor } from '@app/events';
import {
  createKafka,
  ensureTopics,
  topicDurabilityEnv,
  topicDurabilityFrom,
  type TopicDurabilityEnv,
} from '@app/kafka';
import { createLogger, loadConfig } from '@app/service-kit';

const env = process.env;
const apiUrl = env.API_URL ?? 'http://localhost:8080';
// The admin API lives on profile-api's management port when it has one (docker-compose.yml does).
const adminUrl = env.ADMIN_URL ?? apiUrl;
// Topics are created as the services would create them: the same keys, the same defaults.
const durability = loadConfig(Joi.object<TopicDurabilityEnv>(topicDurabilityEnv), env);
const adminToken = env.ADMIN_TOKEN ?? '';
const topic = env.PROFILE_EVENTS_TOPIC ?? DEFAULT_PROFILE_EVENTS_TOPIC;
const demo = {
  email: env.DEMO_EMAIL ?? 'demo@example.com',
  password: env.DEMO_PASSWORD ?? 'demo password',
  first_name: 'Demo',
  last_name: 'User',
  confirm: true,
};
const loyaltySetting = {
  enabled: true,
  base_url: env.LOYALTY_BASE_URL ?? 'http://provider-sim:8090',
  api_key: env.LOYALTY_API_KEY ?? 'demo-key',
  timeout_ms: 2000,
  sync_all_updates: false,
};
const logger = createLogger('init-stack', { level: env.LOG_LEVEL ?? 'info' });

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  base = apiUrl,
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function createTopics(): Promise<void> {
  const kafka = createKafka({
    brokers: env.KAFKA_BROKERS ?? 'localhost:9092',
    clientId: 'init-stack',
    logger,
  });
  // The dead-letter topic has the same partitions, so a dead letter keeps its user's partition.
  const dlq = deadLetterTopicFor(topic, env.CONSUMER_GROUP ?? 'loyalty-sync');
  await ensureTopics(
    kafka,
    [topic, dlq].map((name) => ({ topic: name, numPartitions: PROFILE_EVENTS_PARTITIONS })),
    topicDurabilityFrom(durability),
  );
  logger.info(
    { topics: [topic, dlq], replication_factor: durability.KAFKA_REPLICATION_FACTOR },
    'topics ready',
  );
}

async function seedDemoUser(): Promise<void> {
  const registration = await call('POST', '/users/registration/', demo);
  // 400 on the email field: registered by an earlier run (its password may have been changed since).
  const taken = registration.status === 400 && 'email' in registration.json();
  if (registration.status !== 201 && !taken) {
    throw new Error(`registering ${demo.email}: ${registration.status} ${registration.text}`);
  }
  logger.info({ email: demo.email, created: !taken }, 'demo user ready');
}

async function seedLoyaltySetting(): Promise<void> {
  const path = '/admin/settings/CUSTOMER_LOYALTY_CARD_SERVICE';
  const auth = { authorization: `Bearer ${adminToken}` };
  const current = await call('GET', path, undefined, auth, adminUrl);
  if (current.status !== 200) throw new Error(`reading ${path}: ${current.status} ${current.text}`);
  // An operator who configured the service already (enabled it) keeps their configuration.
  if ((current.json().value as { enabled?: boolean }).enabled) {
    logger.info('loyalty setting already enabled, left as is');
    return;
  }
  const update = await call('PUT', path, { value: loyaltySetting }, auth, adminUrl);
  if (update.status !== 200) throw new Error(`writing ${path}: ${update.status} ${update.text}`);
  logger.info({ base_url: loyaltySetting.base_url }, 'loyalty setting enabled');
}

try {
  await createTopics();
  await seedDemoUser();
  await seedLoyaltySetting();
} catch (error) {
  logger.fatal({ err: error }, 'stack set-up failed');
  process.exitCode = 1;
}
