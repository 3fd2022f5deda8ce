import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Preloaded into each server child: it stops itself should this process die without stopping it. */
const EXIT_WITH_PARENT = fileURLToPath(new URL('./exit-with-parent.ts', import.meta.url));
const OUTPUT_TAIL_CHARS = 16_000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** CPU time (user + system) the process has used so far, in ms; undefined off Linux. */
  cpuMs(): number | undefined;
  /** The last lines it printed, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  /** The entry script, run as `node --conditions=source [nodeArgs] script`. */
  script: string;
  /** Passed to the child as PORT. */
  port: number;
  env: NodeJS.ProcessEnv;
  nodeArgs?: string[];
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15), in ms. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so field 14 is fields[11] and field 15 is fields[12].
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) the whole machine has been busy, all cores together (/proc/stat: everything but idle
 * and iowait), so a run can be charged what every process on it used: the load generator, Redis,
 * Kafka and any other work too. Undefined off Linux.
 */
export function machineCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return (
      (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) /
      ticksPerSecond()
    );
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) of the engine's userland proxies (docker-proxy) forwarding these host ports to their
 * containers: every byte to and from a published port passes through one, so each round trip to the
 * database, Redis or Kafka costs it CPU too. Undefined when there are none (e.g. userland-proxy off).
 */
export function portProxyCpuMeter(hostPorts: number[]): (() => number | undefined) | undefined {
  const wanted = new Set(hostPorts.map(String));
  const pids: number[] = [];
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let argv: string[];
      try {
        argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      } catch {
        continue;
      }
      if (!argv[0]?.endsWith('docker-proxy')) continue;
      const port = argv[argv.indexOf('-host-port') + 1];
      if (port && wanted.has(port)) pids.push(Number(entry));
    }
  } catch {
    return undefined;
  }
  if (pids.length === 0) return undefined;
  return () => pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);
}

/**
 * CPU time (ms) of the processes of the container publishing `hostPort`, e.g. the database's, read from
 * /proc (so this process must see the container's pids: a local engine, as root). Undefined when
 * no such container is found.
 */
export function containerCpuMeter(hostPort: number): (() => number | undefined) | undefined {
  try {
    const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', timeout: 10_000 });
    const id = docker('ps', '-q', '--filter', `publish=${hostPort}`).trim().split('\n')[0];
    if (!id) return undefined;
    const pids = docker('top', id, '-o', 'pid')
      .split('\n')
      .slice(1)
      .map((line) => Number(line.trim()))
      .filter((pid) => pid > 0);
    if (pids.length === 0 || processCpuMs(pids[0]!) === undefined) return undefined;
    return () => pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a server in a child process of its own (so it never shares an event loop with the load
 * generator) and resolves once GET /healthz answers 200 on 127.0.0.1:port.
 */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', EXIT_WITH_PARENT, ...(spec.nodeArgs ?? []), spec.script],
    { env: { ...spec.env, PORT: String(spec.port) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve();
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${spec.name}: could not spawn ${spec.script}`);

  const url = `http://127.0.0.1:${spec.port}`;
  const server: ServerProcess = {
    name: spec.name,
    url,
    pid,
    cpuMs: () => processCpuMs(pid),
    output: () => tail,
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${spec.name} exited (${exitCode}) before it was ready:\n${tail}`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${spec.name} was not ready within ${READY_TIMEOUT_MS} ms:\n${tail}`);
    }
    await sleep(200);
  }
}
