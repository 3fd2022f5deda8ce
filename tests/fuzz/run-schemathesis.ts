/**
 * The fuzz stage: schemathesis against profile-api's served /openapi.json, logged in.
 *
 *   SCHEMATHESIS=<venv>/bin/schemathesis node --conditions=source tests/fuzz/run-schemathesis.ts
 *
 * (scripts/fuzz.sh creates the venv and calls this.) Starts MongoDB, Redis and Kafka containers
 * through the testkit (or uses MONGO_URL / REDIS_URL / KAFKA_BROKERS), profile-api in this process on
 * a free port, registers and logs in users, then runs schemathesis twice: with a fixed seed and with
 * a random one that it prints. Gates: not_a_server_error, status_code_conformance,
 * content_type_conformance and response_schema_conformance, 0 failures allowed. Every operation
 * with a body or a parameter is tested. Prints the requests profile-api answered, writes a
 * jest-like summary (FUZZ_REPORT) that scripts/test.sh adds to its final line: one check per
 * operation per run. Exits 1 on any failure. Stops everything it started, on a signal too.
 *
 * Environment: FUZZ_SEED (fixed seed, 20261129), FUZZ_RANDOM_SEED (replay a random run),
 * FUZZ_MAX_EXAMPLES (per operation and run, 40), FUZZ_REPORT (.test-results/fuzz.json).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, type RunningStack } from '@app/testkit';
import { ADMIN_TOKEN, startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = fileURLToPath(new URL('./schemathesis.toml', import.meta.url));
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];
/** Operations with neither a body nor a parameter: nothing to generate. */
const WITHOUT_INPUT = ['healthz', 'readyz', 'metrics', 'openapi', 'getCsrfToken'];

const schemathesis = process.env.SCHEMATHESIS ?? 'schemathesis';
const fixedSeed = Number(process.env.FUZZ_SEED ?? 20261129);
const randomSeed = Number(process.env.FUZZ_RANDOM_SEED ?? randomInt(1, 2 ** 31));
const maxExamples = Number(process.env.FUZZ_MAX_EXAMPLES ?? 40);
const reportPath = path.resolve(ROOT, process.env.FUZZ_REPORT ?? '.test-results/fuzz.json');
/** The issue asks for at least this many generated requests over both runs. */
const MIN_REQUESTS = 1000;

/** The parts of schemathesis's JSON run report this stage reads. */
interface RunReport {
  exit_code: number;
  operations: { selected: number; tested: number; errored: number } | null;
  test_cases: { generated: number; with_failures: number; errored: number };
  failures: { title: string; count: number; operations: string[] }[];
  errors: { title: string; count: number }[];
}

interface RunResult {
  seed: number;
  label: string;
  report: RunReport | undefined;
  exitCode: number | null;
}

let stopping = false;
let child: ChildProcess | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`fuzz: ${signal}, stopping`);
    stopping = true;
    child?.kill('SIGTERM');
  });
}

/** A new user's login answer `key`, to be sent as `Authorization: Token <key>`. */
async function newToken(harness: ProfileApiHarness): Promise<string> {
  const { email, password } = await harness.signUp();
  const response = await fetch(`${harness.api.url}/users/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await response.json()) as { key?: string };
  if (response.status !== 200 || !body.key) throw new Error(`login failed: ${JSON.stringify(body)}`);
  return body.key;
}

/** Requests profile-api has answered so far, by "METHOD route status", from its latency histogram. */
async function requestsAnswered(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^http_request_duration_seconds_count\{([^}]*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    counts.set(`${labels.method} ${labels.route} ${labels.status}`, Number(match[2]));
  }
  return counts;
}

/** What the fuzz runs sent, by operation and status: shows that they got past authentication. */
function answeredBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, count] of after) {
    const added = count - (before.get(key) ?? 0);
    if (added > 0) delta.set(key, added);
  }
  return delta;
}

async function runSchemathesis(
  harness: ProfileApiHarness,
  seed: number,
  label: string,
  workDir: string,
): Promise<RunResult> {
  const reportFile = path.join(workDir, `run-${seed}.json`);
  const args = [
    '--config-file',
    CONFIG,
    'run',
    `${harness.api.url}/openapi.json`,
    '--url',
    harness.api.url,
    '--seed',
    String(seed),
    '--max-examples',
    String(maxExamples),
    '--checks',
    CHECKS.join(','),
    ...WITHOUT_INPUT.flatMap((id) => ['--exclude-operation-id', id]),
    '--report',
    'json',
    '--report-json-path',
    reportFile,
    '--generation-database',
    'none',
    '--no-color',
  ];
  const env = {
    ...process.env,
    FUZZ_TOKEN: await newToken(harness),
    FUZZ_LOGOUT_TOKEN: await newToken(harness),
    FUZZ_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  console.log(`fuzz: schemathesis run, ${label} seed ${seed}`);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child = spawn(schemathesis, args, { cwd: workDir, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  child = undefined;
  const report = await readFile(reportFile, 'utf8').then(
    (text) => JSON.parse(text) as RunReport,
    () => undefined,
  );
  return { seed, label, report, exitCode };
}

/** One check per tested operation and run; a run that could not test at all counts as one failure. */
function tally(results: RunResult[]): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const { report, exitCode } of results) {
    if (!report?.operations) {
      failed += 1;
      continue;
    }
    const failing = new Set(report.failures.flatMap((failure) => failure.operations));
    const broken = failing.size + report.operations.errored;
    failed += broken + (exitCode !== 0 && broken === 0 ? 1 : 0);
    passed += Math.max(0, report.operations.tested - broken);
  }
  return { passed, failed };
}

async function main(): Promise<number> {
  let stack: RunningStack | undefined;
  let harness: ProfileApiHarness | undefined;
  const workDir = await mkdtemp(path.join(tmpdir(), 'profile-fuzz-'));
  const results: RunResult[] = [];
  let answered: Map<string, number> | undefined;
  try {
    stack = await startStack();
    process.env.MONGO_URL = stack.urls.mongoUrl;
    process.env.REDIS_URL = stack.urls.redisUrl;
    process.env.KAFKA_BROKERS = stack.urls.kafkaBrokers;
    if (stopping) return 1;
    harness = await startProfileApiHarness('fuzz', { LOG_LEVEL: process.env.FUZZ_LOG_LEVEL ?? 'silent' });
    console.log(`fuzz: profile-api at ${harness.api.url}`);
    const before = await requestsAnswered(harness.api.url);
    for (const [seed, label] of [
      [fixedSeed, 'fixed'],
      [randomSeed, `random (replay: FUZZ_RANDOM_SEED=${randomSeed})`],
    ] as const) {
      if (stopping) break;
      results.push(await runSchemathesis(harness, seed, label, workDir));
    }
    answered = answeredBetween(before, await requestsAnswered(harness.api.url));
  } finally {
    await harness?.stop().catch((error: unknown) => console.error('fuzz: profile-api stop failed', error));
    await stack?.stop().catch((error: unknown) => console.error('fuzz: container stop failed', error));
    await rm(workDir, { recursive: true, force: true });
  }

  const { passed } = tally(results);
  let { failed } = tally(results);
  const generated = results.reduce((sum, { report }) => sum + (report?.test_cases.generated ?? 0), 0);
  console.log('\nfuzz: summary');
  for (const { seed, label, report, exitCode } of results) {
    const failures = report?.failures.map((f) => `${f.title} ×${f.count} (${f.operations.join(', ')})`);
    console.log(
      `  seed ${seed} (${label}): exit ${exitCode}, ${report?.operations?.tested ?? 0} operations, ` +
        `${report?.test_cases.generated ?? 0} test cases, failures: ${failures?.join('; ') || 'none'}` +
        (report?.errors.length ? `, errors: ${report.errors.map((e) => e.title).join('; ')}` : ''),
    );
  }
  const requests = [...(answered ?? new Map<string, number>()).values()].reduce((sum, n) => sum + n, 0);
  console.log('  answers by operation and status (profile-api metrics):');
  for (const [key, count] of [...(answered ?? [])].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`    ${key.padEnd(52)} ${String(count).padStart(5)}`);
  }
  console.log(`  requests answered by profile-api: ${requests} (${generated} generated test cases)`);
  console.log(`  random seed: ${randomSeed}`);
  if (results.length < 2 || stopping) {
    console.log('  not every run completed');
    failed += 1;
  } else if (requests < MIN_REQUESTS) {
    console.log(`  fewer than ${MIN_REQUESTS} requests: raise FUZZ_MAX_EXAMPLES`);
    failed += 1;
  }
  console.log(`fuzz: ${passed} passed, ${failed} failed`);
  await mkdir(path.dirname(reportPath), { recursive: true });
  await writeFile(
    reportPath,
    JSON.stringify({
      numPassedTests: passed,
      numFailedTests: failed,
      requests,
      generatedTestCases: generated,
      seeds: results.map(({ seed, label }) => ({ seed, label })),
    }),
  );
  return failed === 0 ? 0 : 1;
}

// Exit explicitly: a client library's timer left behind must not keep a finished stage alive.
process.exit(
  await main().catch((error: unknown) => {
    console.error('fuzz: stage failed', error);
    return 1;
  }),
);
