import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { freePort } from '@app/testkit';

const ROOT = path.join(__dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
/** The host ports every variant publishes, each given a free port. */
const PORT_VARIABLES = [
  'HOST_API_PORT',
  'HOST_MANAGEMENT_PORT',
  'HOST_PROVIDER_SIM_PORT',
  'HOST_KAFKA_PORT',
  'HOST_ZIPKIN_PORT',
  'HOST_VICTORIAMETRICS_PORT',
] as const;
const IMAGE_VARIABLES = [
  'MONGO_IMAGE',
  'REDIS_IMAGE',
  'KAFKA_IMAGE',
  'NODE_IMAGE',
  'ZIPKIN_IMAGE',
  'VICTORIAMETRICS_IMAGE',
  'HAPROXY_IMAGE',
] as const;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (or until timeoutMs, then SIGKILL); never throws on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  { env = process.env, timeoutMs = 120_000 }: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: ROOT, env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        const timedOut = error && error.killed ? `\n(killed after ${timeoutMs} ms)` : '';
        resolve({ code, stdout, stderr: stderr + timedOut });
      },
    );
  });
}

/**
 * Image names as scripts/test.sh and scripts/up.sh give them (from .env.images): the environment's
 * own values win; the file fills in whatever a bare `jest` run did not export.
 */
function imageEnvironment(): Record<string, string> {
  const fromFile: Record<string, string> = {};
  const file = path.join(ROOT, '.env.images');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^\s*([A-Z_]+)=(.*)$/.exec(line);
      if (match) fromFile[match[1]!] = match[2]!.trim().replace(/^(['"])(.*)\1$/, '$2');
    }
  }
  const images: Record<string, string> = {};
  for (const name of IMAGE_VARIABLES) {
    const value = process.env[name] || fromFile[name];
    if (value) images[name] = value;
  }
  return images;
}

export interface ContainerState {
  startedAt: string;
  /** running, exited, restarting... */
  status: string;
  exitCode: number;
  /** healthy, starting, unhealthy; undefined without a health check. */
  health: string | undefined;
}

export interface ComposeStack {
  projectName: string;
  /**
   * `up --detach --build --wait` (plus extraArgs, e.g. `--scale loyalty-sync=3`); its result, never a
   * throw, so the caller can report and take down.
   */
  up(extraArgs?: string[]): Promise<CommandResult>;
  apiUrl: string;
  /** profile-api's management port: /admin/* and /metrics (404 on apiUrl). */
  managementUrl: string;
  providerUrl: string;
  /** Zipkin: the traces of the three services (UI at /zipkin/, API at /api/v2/). */
  zipkinUrl: string;
  /** VictoriaMetrics: every service's metrics, scraped every 5 s (vmui at /vmui/). */
  victoriaMetricsUrl: string;
  /** Kafka's HOST listener, as it advertises itself to clients on this machine. */
  kafkaBrokers: string;
  /** Every host port given to the stack, by its variable (HOST_API_PORT, ..., and extraPorts). */
  ports: Record<string, number>;
  /** Runs `docker compose -p <project> -f docker-compose.yml [-f <extra files>] <args>` with the stack's environment. */
  compose(args: string[], timeoutMs?: number): Promise<CommandResult>;
  /** Like compose(), but throws with the command's output when it fails. */
  composeOrThrow(args: string[], timeoutMs?: number): Promise<string>;
  /** Ids of a service's containers, ordered by their compose replica number. */
  containers(service: string): Promise<string[]>;
  /** A container's state as `docker inspect` reports it. */
  inspect(container: string): Promise<ContainerState>;
  /**
   * The address of a service's first container on the project's network. The engine's host reaches
   * it directly, so a test can seed the database or Redis without publishing their ports.
   */
  containerAddress(service: string): Promise<string>;
  /** The last lines of every service's log, for a failure report. */
  logs(tail?: number): Promise<string>;
  /** `down --volumes`: containers, network and data go. Safe to call twice or after a failed up. */
  down(): Promise<void>;
}

export interface ComposeStackOptions {
  /** Compose project name prefix; a random suffix keeps concurrent runs apart. */
  projectPrefix?: string;
  /** Budget of `up --build --wait` as a whole (builds included). */
  upTimeoutMs?: number;
  /** Budget of the health wait alone (`--wait-timeout`). */
  waitTimeoutSeconds?: number;
  /** Compose files layered on docker-compose.yml, relative to the repository (e.g. docker-compose.ha.yml). */
  files?: string[];
  /** More host-port variables those files publish (e.g. HOST_KAFKA_1_PORT), each given a free port. */
  extraPorts?: string[];
  /** More variables for the compose files (e.g. HA_NETWORK_PREFIX). */
  env?: Record<string, string>;
}

/**
 * docker-compose.yml (with `files` layered on it, e.g. the HA variant) as a project of its own on free host ports, so it never touches a developer's
 * `profile-platform` project on 8080/8090/9092; up() starts it as scripts/up.sh does. Nothing runs
 * until up(): the handle exists first, so whoever holds it can always take the stack down.
 */
export async function createComposeStack({
  projectPrefix = 'profile-e2e',
  upTimeoutMs = 540_000,
  waitTimeoutSeconds = 300,
  files = [],
  extraPorts = [],
  env: extraEnv = {},
}: ComposeStackOptions = {}): Promise<ComposeStack> {
  const projectName = `${projectPrefix}-${randomUUID().slice(0, 8)}`;
  const variables = [...PORT_VARIABLES, ...extraPorts];
  const free = await distinctFreePorts(variables.length);
  const ports = Object.fromEntries(variables.map((name, index) => [name, free[index]!]));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...imageEnvironment(),
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
    ...extraEnv,
  };
  const fileArgs = [COMPOSE_FILE, ...files.map((file) => path.join(ROOT, file))].flatMap((file) => [
    '-f',
    file,
  ]);
  // The flags below name the project and file; a developer's COMPOSE_* settings must not add to them.
  for (const name of Object.keys(env)) if (name.startsWith('COMPOSE_')) delete env[name];

  const compose = (args: string[], timeoutMs = 120_000) =>
    run('docker', ['compose', '-p', projectName, ...fileArgs, ...args], { env, timeoutMs });
  const composeOrThrow = async (args: string[], timeoutMs?: number) => {
    const result = await compose(args, timeoutMs);
    if (result.code !== 0) {
      throw new Error(`docker compose ${args.join(' ')} exited with ${result.code}:\n${result.stderr}`);
    }
    return result.stdout;
  };

  let downed = false;
  const stack: ComposeStack = {
    projectName,
    ports,
    apiUrl: `http://127.0.0.1:${ports.HOST_API_PORT}`,
    managementUrl: `http://127.0.0.1:${ports.HOST_MANAGEMENT_PORT}`,
    providerUrl: `http://127.0.0.1:${ports.HOST_PROVIDER_SIM_PORT}`,
    zipkinUrl: `http://127.0.0.1:${ports.HOST_ZIPKIN_PORT}`,
    victoriaMetricsUrl: `http://127.0.0.1:${ports.HOST_VICTORIAMETRICS_PORT}`,
    kafkaBrokers: `localhost:${ports.HOST_KAFKA_PORT}`,
    up: (extraArgs = []) =>
      compose(
        ['up', '--detach', '--build', '--wait', '--wait-timeout', String(waitTimeoutSeconds), ...extraArgs],
        upTimeoutMs,
      ),
    compose,
    composeOrThrow,
    async containers(service) {
      const result = await run('docker', [
        'ps',
        '--all',
        '--no-trunc',
        '--filter',
        `label=com.docker.compose.project=${projectName}`,
        '--filter',
        `label=com.docker.compose.service=${service}`,
        '--format',
        '{{.ID}} {{.Label "com.docker.compose.container-number"}}',
      ]);
      if (result.code !== 0) throw new Error(`docker ps: ${result.stderr}`);
      return result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' '))
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map(([id]) => id!);
    },
    async inspect(container) {
      const result = await run('docker', [
        'inspect',
        '--format',
        '{{.State.StartedAt}}|{{.State.Status}}|{{.State.ExitCode}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}',
        container,
      ]);
      if (result.code !== 0) throw new Error(`docker inspect ${container}: ${result.stderr}`);
      const [startedAt = '', status = '', exitCode = '', health = ''] = result.stdout.trim().split('|');
      return { startedAt, status, exitCode: Number(exitCode), health: health || undefined };
    },
    async containerAddress(service) {
      const [container] = await stack.containers(service);
      if (!container) throw new Error(`no ${service} container in ${projectName}`);
      const result = await run('docker', [
        'inspect',
        '--format',
        '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
        container,
      ]);
      const [address] = result.stdout.trim().split(' ');
      if (result.code !== 0 || !address) throw new Error(`docker inspect ${container}: ${result.stderr}`);
      return address;
    },
    async logs(tail = 50) {
      const result = await compose(['logs', '--no-color', '--timestamps', `--tail=${tail}`], 60_000);
      // Compose's progress escapes (clear line) only garble a log read in a test report.
      return stripVTControlCharacters(`${result.stdout}${result.stderr}`);
    },
    async down() {
      if (downed) return;
      downed = true;
      const result = await compose(['down', '--volumes', '--remove-orphans', '--timeout', '10'], 180_000);
      if (result.code !== 0)
        throw new Error(`docker compose down of ${projectName} failed:\n${result.stderr}`);
    },
  };
  return stack;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
