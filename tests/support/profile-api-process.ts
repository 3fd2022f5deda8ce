import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.join(__dirname, '../..');
/** The preload the images run too: tracing starts when the environment configures it, else nothing. */
export const TELEMETRY_PRELOAD = ['--import', './packages/telemetry/src/register.ts'];

export interface ProfileApiProcess {
  url: string;
  child: ChildProcess;
  /** Kills without warning: no graceful shutdown, nothing flushed. */
  kill(): Promise<void>;
}

/** profile-api as a separate OS process, so a test can crash it the way production would. */
export async function spawnProfileApi(env: NodeJS.ProcessEnv): Promise<ProfileApiProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', ...TELEMETRY_PRELOAD, 'services/profile-api/src/start.ts'],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('profile-api did not start in 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`profile-api exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('profile-api listening')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One of profile-api's commands (src/cli/<name>.ts) as an operator runs it: its exit code and output. */
export async function runProfileApiCli(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', `services/profile-api/src/cli/${name}.ts`, ...args],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  return { code, stdout, stderr };
}
