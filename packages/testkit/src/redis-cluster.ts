import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { freePort } from './containers.ts';
import { imageFor } from './images.ts';

export interface RedisClusterContainer {
  /** The masters as clients on this machine reach them (what the cluster announces). */
  readonly nodes: { host: string; port: number }[];
  readonly image: string;
  stop(): Promise<void>;
}

const READY = 'redis-cluster-ready';

/**
 * A three-master Redis Cluster (no replicas) in one container of REDIS_IMAGE: three redis-server
 * processes with `--cluster-enabled yes`, joined by `redis-cli --cluster create`. Each listens on
 * the same port number inside and on the host and announces 127.0.0.1, so the slot map the cluster
 * hands a client on this machine points at reachable addresses; the bus ports stay inside.
 */
export async function startRedisCluster(): Promise<RedisClusterContainer> {
  const image = imageFor('REDIS_IMAGE');
  const startedAt = Date.now();
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const servers = ports
    .map(
      (port, index) =>
        `redis-server --port ${port} --cluster-enabled yes --cluster-port ${17000 + index} ` +
        `--cluster-config-file nodes-${port}.conf --cluster-announce-ip 127.0.0.1 --bind 0.0.0.0 ` +
        `--protected-mode no --save '' --appendonly no --dir /tmp --daemonize yes`,
    )
    .join(' && ');
  const members = ports.map((port) => `127.0.0.1:${port}`).join(' ');
  const script =
    `${servers} && sleep 0.5 && redis-cli --cluster create ${members} --cluster-replicas 0 --cluster-yes ` +
    `&& until redis-cli -p ${ports[0]} cluster info | grep -q cluster_state:ok; do sleep 0.1; done ` +
    `&& echo ${READY} && exec sleep infinity`;
  const container: StartedTestContainer = await new GenericContainer(image)
    .withEntrypoint(['sh', '-c'])
    .withCommand([script])
    .withExposedPorts(...ports.map((port) => ({ container: port, host: port })))
    .withWaitStrategy(Wait.forLogMessage(READY))
    .withStartupTimeout(120_000)
    .start();
  process.stderr.write(
    `[testkit] started a redis cluster (image ${image}) on ports ${ports.join(', ')} in ${Date.now() - startedAt} ms\n`,
  );
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    image,
    stop: async () => {
      await container.stop({ timeout: 5_000 });
    },
  };
}
