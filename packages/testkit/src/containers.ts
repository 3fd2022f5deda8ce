import { createServer } from 'node:net';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { imageFor, type ImageVariable } from './images.ts';

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

interface ContainerSpec {
  name: keyof typeof READY;
  image: ImageVariable;
  containerPort: number;
  /** The client URL for the host port the container is published on. */
  url: (port: number) => string;
  /** Environment for the container; the host port is known by then (e.g. an advertised listener). */
  environment?: (port: number) => Record<string, string>;
}

/** One container on a free host port (kept across restarts), ready when its log says so. */
async function startContainer({ name, image: variable, containerPort, url, environment }: ContainerSpec) {
  const image = imageFor(variable);
  const startedAt = Date.now();
  const port = await freePort();
  const container = await new GenericContainer(image)
    .withEnvironment(environment?.(port) ?? {})
    .withExposedPorts({ container: containerPort, host: port })
    .withWaitStrategy(Wait.forLogMessage(READY[name]))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  report(name, image, url(port), startedAt);
  return wrap(container, url(port), image);
}

export function startMongo(): Promise<ServiceContainer> {
  return startContainer({
    name: 'mongo',
    image: 'MONGO_IMAGE',
    containerPort: 27017,
    url: (port) => `mongodb://localhost:${port}/`,
  });
}

export function startRedis(): Promise<ServiceContainer> {
  return startContainer({
    name: 'redis',
    image: 'REDIS_IMAGE',
    containerPort: 6379,
    url: (port) => `redis://localhost:${port}`,
  });
}

/**
 * A single-node KRaft broker whose advertised listener is the host port it is published on,
 * so clients on the host can follow the metadata it returns.
 */
export function startKafka(): Promise<ServiceContainer> {
  return startContainer({
    name: 'kafka',
    image: 'KAFKA_IMAGE',
    containerPort: 9092,
    url: (port) => `localhost:${port}`,
    environment: (port) => ({
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
    }),
  });
}

/** Zipkin with in-memory storage: traces read back through its API (`<url>/api/v2/trace/<id>`). */
export function startZipkin(): Promise<ServiceContainer> {
  return startContainer({
    name: 'zipkin',
    image: 'ZIPKIN_IMAGE',
    containerPort: 9411,
    url: (port) => `http://localhost:${port}`,
  });
}
