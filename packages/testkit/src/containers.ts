import { createServer } from 'node:net';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { imageFor } from './images.ts';

export interface ServiceContainer {
  readonly url: string;
  readonly image: string;
  /** Stops and starts the same container (data kept, same host port), waiting until it is ready again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

// Both the official images and the local stand-ins print one of these when ready.
const READY = {
  mongo: /Waiting for connections|secantusd-rs listening on/, // mongod's JSON log | the stand-in's
  redis: /Ready to accept connections/,
  kafka: /Kafka Server started/,
  zipkin: /Serving HTTP at/,
};

const STARTUP_TIMEOUT_MS = 120_000;

function report(name: string, image: string, url: string, startedAt: number): void {
  process.stderr.write(
    `[testkit] started ${name} (image ${image}) at ${url} in ${Date.now() - startedAt} ms\n`,
  );
}

function wrap(container: StartedTestContainer, url: string, image: string): ServiceContainer {
  return {
    url,
    image,
    restart: () => container.restart({ timeout: 10_000 }),
    stop: async () => {
      await container.stop({ timeout: 5_000 });
    },
  };
}

/** A free port on loopback, so a container can keep the same host port across restarts. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startMongo(): Promise<ServiceContainer> {
  const image = imageFor('MONGO_IMAGE');
  const startedAt = Date.now();
  const port = await freePort();
  const container = await new GenericContainer(image)
    .withExposedPorts({ container: 27017, host: port })
    .withWaitStrategy(Wait.forLogMessage(READY.mongo))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  const url = `mongodb://localhost:${port}/`;
  report('mongo', image, url, startedAt);
  return wrap(container, url, image);
}

export async function startRedis(): Promise<ServiceContainer> {
  const image = imageFor('REDIS_IMAGE');
  const startedAt = Date.now();
  const port = await freePort();
  const container = await new GenericContainer(image)
    .withExposedPorts({ container: 6379, host: port })
    .withWaitStrategy(Wait.forLogMessage(READY.redis))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  const url = `redis://localhost:${port}`;
  report('redis', image, url, startedAt);
  return wrap(container, url, image);
}

/**
 * A single-node KRaft broker whose advertised listener is the host port it is published on,
 * so clients on the host can follow the metadata it returns.
 */
export async function startKafka(): Promise<ServiceContainer> {
  const image = imageFor('KAFKA_IMAGE');
  const startedAt = Date.now();
  const port = await freePort();
  const container = await new GenericContainer(image)
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://localhost:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_NUM_PARTITIONS: '1',
    })
    .withExposedPorts({ container: 9092, host: port })
    .withWaitStrategy(Wait.forLogMessage(READY.kafka))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  const url = `localhost:${port}`;
  report('kafka', image, url, startedAt);
  return wrap(container, url, image);
}

/** Zipkin with in-memory storage: traces read back through its API (`<url>/api/v2/trace/<id>`). */
export async function startZipkin(): Promise<ServiceContainer> {
  const image = imageFor('ZIPKIN_IMAGE');
  const startedAt = Date.now();
  const port = await freePort();
  const container = await new GenericContainer(image)
    .withExposedPorts({ container: 9411, host: port })
    .withWaitStrategy(Wait.forLogMessage(READY.zipkin))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  const url = `http://localhost:${port}`;
  report('zipkin', image, url, startedAt);
  return wrap(container, url, image);
}
