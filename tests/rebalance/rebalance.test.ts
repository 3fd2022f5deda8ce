// loyalty-sync scaled 3 → 6 → 3 under a steady stream of loyalty-relevant PATCHes, on the whole
// compose stack: nothing committed is lost, nothing applied twice, each user's versions arrive in
// order, and the longest pause in deliveries during each rebalance is printed (and bounded).
// Its own jest project (`pnpm test:rebalance`): a few minutes of wall time, not part of CI's run.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { connectMongo } from '@app/datastores';
import { waitFor } from '@app/testkit';
import type { CustomerView, SimulatorStats } from '@app/provider-sim';
import { seedUsers } from '../../bench/http/seed.ts';
import { createComposeStack, type ComposeStack } from '../support/compose-stack.ts';
import { watchGroup, type GroupWatch } from '../support/group-watch.ts';
import {
  checkDelivery,
  startPatchLoad,
  windowFigures,
  type Application,
  type LoadUser,
  type PatchLoad,
  type SentPatch,
  type Window,
  type WindowFigures,
} from '../support/patch-load.ts';
import { createSuiteSteps } from '../support/suite-steps.ts';

const env = process.env;
// One request in flight per user: users / answer time bounds the rate, so enough of them that a
// slow API on a busy machine still gets near RATE.
const USERS = Number(env.REBALANCE_USERS ?? 400);
const RATE = Number(env.REBALANCE_RATE ?? 75);
/** Load before, between and after the two scalings: this long at RATE, counted in deliveries. */
const STEADY_MS = Number(env.REBALANCE_STEADY_S ?? 20) * 1000;
/** What a rebalance may stop deliveries for; the figure the suite exists to keep small. */
const MAX_GAP_MS = Number(env.REBALANCE_MAX_GAP_MS ?? 5_000);
const GROUP = 'loyalty-sync';
const ADMIN_TOKEN = env.ADMIN_TOKEN || 'local-admin-token';

describe('loyalty-sync scaled 3 → 6 → 3 under steady loyalty updates (docker compose)', () => {
  let stack: ComposeStack | undefined;
  let admin: Admin | undefined;
  let watch: GroupWatch | undefined;
  let load: PatchLoad | undefined;
  const steps = createSuiteSteps();
  const { step } = steps;
  const users: LoadUser[] = [];
  const windows: Window[] = [];
  const timings: { name: string; commandMs: number; rebalanceMs: number; observed: boolean }[] = [];
  let sent: SentPatch[] = [];
  let committed: SentPatch[] = [];
  let loadSeconds = 0;
  let applications: Application[] = [];

  function running(): ComposeStack {
    if (!stack) throw new Error('the compose stack did not start (see beforeAll)');
    return stack;
  }

  steps.setUp(async () => {
    stack = await createComposeStack({ projectPrefix: 'rb' });
    const up = await stack.up(['--scale', 'loyalty-sync=3']);
    if (up.code !== 0)
      throw new Error(`docker compose up exited with ${up.code}:\n${up.stderr.slice(-4000)}`);
    const kafka = new Kafka({
      clientId: 'rebalance-test',
      brokers: [stack.kafkaBrokers],
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
    watch = watchGroup(admin, GROUP);
  }, 600_000);

  afterAll(async () => {
    await load?.stop();
    await watch?.stop();
    await admin?.disconnect();
    if (!stack) return;
    try {
      if (steps.failed) process.stderr.write(`\n[rebalance] a step failed; logs:\n${await stack.logs(40)}\n`);
    } finally {
      await stack.down();
    }
  }, 240_000);

  async function adminPut(key: string, value: unknown): Promise<void> {
    const response = await fetch(`${running().managementUrl}/admin/settings/${key}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    if (response.status !== 200) throw new Error(`PUT ${key}: ${response.status} ${await response.text()}`);
  }

  /**
   * One user registers through the API (scrypt, twice: slow on a busy machine); the rest are clones
   * of it with sessions written to Redis, as bench:http seeds them. The login key is the session id.
   */
  async function seed(): Promise<LoadUser[]> {
    const current = running();
    const [mongoAddress, redisAddress] = await Promise.all([
      current.containerAddress('mongo'),
      current.containerAddress('redis'),
    ]);
    const connection = await connectMongo(`mongodb://${mongoAddress}:27017/profile`);
    const redis = new Redis(`redis://${redisAddress}:6379`);
    try {
      const sessions = await seedUsers({
        apiUrl: current.apiUrl,
        db: connection.db!,
        redis,
        total: USERS,
        viaApi: 1,
        runTag: randomUUID().slice(0, 8),
        sessionTtlSeconds: 3_600,
      });
      return sessions.map((session) => ({ id: session.userId, key: session.sessionId }));
    } finally {
      await Promise.allSettled([connection.close(), redis.quit()]);
    }
  }

  /** Scales loyalty-sync and waits until the group is Stable with that many members again. */
  async function scaleTo(replicas: number, name: string): Promise<void> {
    const current = running();
    const from = Date.now();
    await current.composeOrThrow(
      // --no-deps and the service named: only loyalty-sync changes, and a dependency's health check
      // timing out on a busy machine cannot fail the command after the scaling happened.
      [
        'up',
        '--detach',
        '--no-recreate',
        '--no-build',
        '--no-deps',
        '--scale',
        `loyalty-sync=${replicas}`,
        'loyalty-sync',
      ],
      180_000,
    );
    const commandMs = Date.now() - from;
    const rebalance = await waitFor(
      `the group to be stable with ${replicas} members`,
      () => watch!.rebalance(replicas, from),
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    timings.push({
      name,
      commandMs,
      rebalanceMs: rebalance.stableAt - rebalance.startedAt,
      observed: rebalance.observed,
    });
    windows.push({ name, from, to: rebalance.stableAt });
  }

  /** Applied updates so far, by provider-sim's count. */
  async function appliedCount(): Promise<number> {
    const stats = (await (await fetch(`${running().providerUrl}/stats`)).json()) as SimulatorStats;
    return stats.applied;
  }

  /** A window of steady load: as many deliveries as STEADY_MS carries at RATE, waited for as such. */
  async function steady(name: string): Promise<void> {
    const from = Date.now();
    const start = await appliedCount();
    const wanted = Math.ceil((STEADY_MS / 1000) * RATE);
    await waitFor(`${wanted} deliveries in "${name}"`, async () => (await appliedCount()) - start >= wanted, {
      timeoutMs: 3 * STEADY_MS,
      intervalMs: 200,
    });
    windows.push({ name, from, to: Date.now() });
  }

  step(
    'when the stack runs three workers, then the group is stable with three members',
    async () => {
      expect(await running().containers('loyalty-sync')).toHaveLength(3);
      await waitFor('three members', () => watch!.stableWith(3, 0), { timeoutMs: 60_000, intervalMs: 100 });
    },
    90_000,
  );

  step(
    `when ${USERS} users exist and throttling is off, then they can all update`,
    async () => {
      // Every request comes from one address, and no per-user rate may cut the load short.
      await adminPut('THROTTLING_SETTINGS', {
        login: null,
        register: null,
        'profile-update': null,
        'phone-verification': null,
      });
      users.push(...(await seed()));
      expect(users).toHaveLength(USERS);
    },
    600_000,
  );

  step(
    `when ${RATE} PATCH/s run while loyalty-sync scales 3 → 6 → 3, then every rebalance completes`,
    async () => {
      if (users.length !== USERS) throw new Error(`${users.length} of ${USERS} users (see the step before)`);
      const loadStarted = Date.now();
      load = startPatchLoad(running().apiUrl, users, RATE);
      await steady('steady, 3 workers');
      await scaleTo(6, 'scale 3 → 6');
      await steady('steady, 6 workers');
      await scaleTo(3, 'scale 6 → 3');
      await steady('steady, 3 workers again');
      sent = await load.stop();
      loadSeconds = (Date.now() - loadStarted) / 1000;
      committed = sent.filter((patch) => patch.status === 200);
      const statuses = new Map<number, number>();
      for (const patch of sent) statuses.set(patch.status, (statuses.get(patch.status) ?? 0) + 1);
      process.stderr.write(
        `[rebalance] ${sent.length} PATCHes sent (by status, -1 = no answer within 10 s: ` +
          `${JSON.stringify(Object.fromEntries(statuses))}), ${committed.length} answered 200, ` +
          `${(committed.length / loadSeconds).toFixed(1)}/s achieved\n`,
      );
      load = undefined;
      expect(await running().containers('loyalty-sync')).toHaveLength(3);
    },
    600_000,
  );

  step(
    'when the load has stopped, then every committed update was applied once, in order per user',
    async () => {
      const { providerUrl } = running();
      if (committed.length === 0) throw new Error('no update was committed (see the steps before)');
      // PATCHes that timed out may have committed too, so the count to reach is not known exactly:
      // at least the answered ones, and then no new application for 6 s (longer than the relay's 5 s round,
      // so a stuck event would show as lost below, not as a hang here).
      let last = { applied: -1, since: Date.now() };
      await waitFor(
        `at least ${committed.length} applications at the provider, then quiet`,
        async () => {
          const stats = (await (await fetch(`${providerUrl}/stats`)).json()) as SimulatorStats;
          if (stats.applied !== last.applied) last = { applied: stats.applied, since: Date.now() };
          return stats.applied >= committed.length && Date.now() - last.since >= 6_000;
        },
        { timeoutMs: 180_000, intervalMs: 500 },
      );
      applications = [];
      for (const user of users) {
        const response = await fetch(`${providerUrl}/customers/${user.id}`);
        if (response.status === 404) continue;
        const customer = (await response.json()) as CustomerView;
        for (const entry of customer.history) {
          applications.push({
            userId: user.id,
            firstName: String(entry.payload.first_name),
            version: Number(entry.payload.profile_version),
            idempotencyKey: entry.idempotency_key,
            appliedAt: Date.parse(entry.applied_at),
          });
        }
      }
      const stats = (await (await fetch(`${providerUrl}/stats`)).json()) as SimulatorStats;
      const check = checkDelivery(sent, applications);
      process.stderr.write(
        `[rebalance] ${JSON.stringify({ ...check, providerDuplicates: stats.duplicate_applications })}\n`,
      );
      expect({ ...check, providerDuplicates: stats.duplicate_applications }).toEqual({
        committed: committed.length,
        applied: check.applied,
        lost: 0,
        unknown: 0,
        twice: 0,
        outOfOrderUsers: 0,
        providerDuplicates: 0,
      });
    },
    180_000,
  );

  step(
    `when deliveries are read back, then no rebalance paused them longer than ${MAX_GAP_MS} ms`,
    async () => {
      const figures: WindowFigures[] = windows.map((window) =>
        windowFigures(window, committed, applications),
      );
      process.stderr.write(`\n${report(figures)}\n`);
      for (const figure of figures) {
        expect({ window: figure.name, gapOverLimit: figure.longestGapMs > MAX_GAP_MS }).toEqual({
          window: figure.name,
          gapOverLimit: false,
        });
      }
    },
    30_000,
  );

  function report(figures: WindowFigures[]): string {
    const rows = figures.map((figure) => {
      const timing = timings.find((entry) => entry.name === figure.name);
      const rebalance = timing
        ? `${timing.rebalanceMs} ms${timing.observed ? '' : ' (unstable state never polled)'}, command ${timing.commandMs} ms`
        : '';
      return (
        `| ${figure.name.padEnd(24)} | ${String(figure.longestGapMs).padStart(7)} | ` +
        `${String(figure.p50Ms).padStart(5)} | ${String(figure.p99Ms).padStart(6)} | ${String(figure.maxMs).padStart(6)} | ` +
        `${String(figure.updates).padStart(7)} | ${rebalance}`
      );
    });
    // How each scaling went, as the polls saw it: state and member count at each change.
    const transitions = windows
      .filter((window) => timings.some((entry) => entry.name === window.name))
      .map((window) => {
        const seen: string[] = [];
        let previous = '';
        for (const sample of watch!.samples()) {
          if (sample.at < window.from || sample.at > window.to) continue;
          const label = `${sample.state}/${sample.members}`;
          if (label !== previous) seen.push(`+${sample.at - window.from} ms ${label}`);
          previous = label;
        }
        return `[rebalance] ${window.name}: ${seen.join(', ')}`;
      });
    return [
      ...transitions,
      `[rebalance] ${USERS} users, ${RATE} PATCH/s asked, ${(committed.length / loadSeconds).toFixed(1)}/s committed ` +
        `(${committed.length}); gaps are between provider applications`,
      '| window                   | gap ms  | p50   | p99    | max    | updates | rebalance (describeGroups polled each 100 ms) |',
      ...rows,
    ].join('\n');
  }
});
