// The HA variant (docker-compose.yml + docker-compose.ha.yml) under a steady stream of with-loyalty
// PATCHes through HAProxy, one fault at a time: the broker leading most partitions SIGKILLed, a
// profile-api replica stopped (drained) and SIGKILLed, the Kafka quorum lost and regained. Each
// fault checks, update by update, that every 2xx answer reached the loyalty provider exactly once,
// and prints a line; the whole table is printed at the end. Its own jest project (`ha`):
//   pnpm test:ha        (HA_RATE, HA_USERS change the load)
import { randomUUID } from 'node:crypto';
import { waitFor } from '@app/testkit';
import { ApiClient } from '../support/api-client.ts';
import { createComposeStack, run, type ComposeStack } from '../support/compose-stack.ts';
import { freeNetworkPrefix } from '../support/free-subnet.ts';
import { LoyaltyProvider, type CustomerView } from '../support/loyalty-sync.ts';
import { signUp } from '../support/sign-up.ts';
import { createSuiteSteps } from '../support/suite-steps.ts';
import { KafkaCluster } from './support/kafka-cluster.ts';
import { startPatchStream, type Outcome, type Stream, type StreamUser } from './support/load.ts';
import { faultReport, reportTable, type FaultReport, type FaultWindow } from './support/report.ts';

const TOPIC = 'profile.events.v1';
const KAFKA_PORTS = ['HOST_KAFKA_1_PORT', 'HOST_KAFKA_2_PORT', 'HOST_KAFKA_3_PORT'];
const USERS = Number(process.env.HA_USERS ?? 60);
/** Modest: three Kafka JVMs, six Node services and the rest share two cores. */
const RATE = Number(process.env.HA_RATE ?? 25);
/** How long the provider may take to apply every committed update once a fault has ended. */
const CATCH_UP_TIMEOUT_MS = 150_000;
const ADMIN_TOKEN = process.env.ADMIN_TOKEN || 'local-admin-token';
/** The with-loyalty endpoint's throttles would refuse a test signing up many users from one address. */
const THROTTLES = { login: '10000/min', register: '10000/min', 'profile-update': '10000/min' };

describe('HA stack (3 Kafka nodes, 3 profile-api behind HAProxy, 3 loyalty-sync) under faults', () => {
  let stack: ComposeStack | undefined;
  let cluster: KafkaCluster;
  let provider: LoyaltyProvider;
  const users: StreamUser[] = [];
  const steps = createSuiteSteps();
  const reports: FaultReport[] = [];
  const durations: [string, number][] = [];

  function running(): ComposeStack {
    if (!stack) throw new Error('the compose stack did not start (see beforeAll)');
    return stack;
  }

  async function timed<T>(what: string, body: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await body();
    } finally {
      durations.push([what, Date.now() - started]);
    }
  }

  async function docker(args: string[]): Promise<void> {
    const result = await run('docker', args, { timeoutMs: 90_000 });
    if (result.code !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  }

  async function container(service: string, index = 0): Promise<string> {
    const ids = await running().containers(service);
    if (!ids[index]) throw new Error(`no container ${index} of ${service}`);
    return ids[index];
  }

  /** Every node and replica running and healthy, every partition of the topic fully in sync. */
  async function settled(): Promise<void> {
    const current = running();
    await waitFor(
      'every Kafka node and profile-api replica to be healthy and every partition in sync',
      async () => {
        for (const service of ['kafka-1', 'kafka-2', 'kafka-3', 'profile-api', 'loyalty-sync', 'haproxy']) {
          for (const id of await current.containers(service)) {
            const state = await current.inspect(id);
            if (state.status !== 'running' || state.health !== 'healthy') return false;
          }
        }
        return cluster.fullyInSync(TOPIC);
      },
      { timeoutMs: 180_000, intervalMs: 1_000 },
    );
  }

  /** Why committed updates are missing: overtaken by a later one of their user, and loyalty-sync's skips. */
  async function diagnose(committed: Outcome[], views: Map<number, CustomerView | undefined>) {
    const missing = committed.filter(
      (outcome) =>
        !(views.get(outcome.user)?.history ?? []).some((entry) => entry.payload.first_name === outcome.name),
    );
    const overtaken = missing.filter((outcome) => {
      const index = Number(outcome.name.split('-').at(-1));
      return (views.get(outcome.user)?.history ?? []).some(
        (entry) => Number(String(entry.payload.first_name).split('-').at(-1)) > index,
      );
    });
    const query = encodeURIComponent('sum by (reason) (loyalty_sync_events_skipped_total)');
    const skipped = await fetch(`${running().victoriaMetricsUrl}/api/v1/query?query=${query}`)
      .then(
        (response) =>
          response.json() as Promise<{
            data: { result: { metric: { reason?: string }; value: [number, string] }[] };
          }>,
      )
      .then((body) => body.data.result.map(({ metric, value }) => `${metric.reason}=${value[1]}`).join(' '))
      .catch((error: Error) => error.message);
    return (
      `${missing.length} missing (${overtaken.length} with a later update of the same user applied), ` +
      `e.g. ${missing
        .slice(0, 5)
        .map((outcome) => `${outcome.user}:${outcome.name}`)
        .join(' ')}; loyalty-sync skipped: ${skipped}`
    );
  }

  async function customers(): Promise<Map<number, CustomerView | undefined>> {
    const views = await Promise.all(users.map((user) => provider.customer(user.id)));
    return new Map(users.map((user, index) => [user.id, views[index]]));
  }

  /**
   * Streams PATCHes for `durationMs` while `inject` breaks something on the stream's clock, then
   * waits until the provider has applied every committed update and reports.
   */
  async function underLoad(
    fault: string,
    durationMs: number,
    inject: (stream: Stream) => Promise<FaultWindow>,
  ): Promise<{ report: FaultReport; outcomes: Outcome[] }> {
    const tag = `${fault.split(' ')[0]}${randomUUID().slice(0, 4)}`;
    const before = await provider.stats();
    const stream = startPatchStream({ users, ratePerSecond: RATE, durationMs, tag });
    const injected = inject(stream);
    injected.catch(() => undefined); // awaited below, after the stream
    const outcomes = await stream.done;
    const window = await injected;
    const committed = outcomes.filter((outcome) => outcome.status >= 200 && outcome.status < 300);
    const wanted = new Set(committed.map((outcome) => outcome.name));
    let views = new Map<number, CustomerView | undefined>();
    let caughtUp = true;
    try {
      await waitFor(
        `the provider to apply the ${committed.length} committed updates of "${fault}"`,
        async () => {
          if ((await provider.stats()).applied - before.applied < committed.length) return false;
          views = await customers();
          const applied = new Set(
            [...views.values()].flatMap((view) =>
              (view?.history ?? []).map((entry) => String(entry.payload.first_name)),
            ),
          );
          return [...wanted].every((name) => applied.has(name));
        },
        { timeoutMs: CATCH_UP_TIMEOUT_MS, intervalMs: 500 },
      );
    } catch {
      // Reported below as lost updates, with what the provider and loyalty-sync say about them.
      caughtUp = false;
      views = await customers();
      process.stderr.write(`[ha] ${fault}: not caught up: ${await diagnose(committed, views)}\n`);
    }
    const caughtUpAt = caughtUp ? Date.now() : Number.NaN;
    const after = await provider.stats();
    const report = faultReport(fault, tag, outcomes, views, window, stream.startedAt, caughtUpAt);
    reports.push(report);
    process.stderr.write(`[ha] ${fault}: ${JSON.stringify(report)}\n`);
    expect({
      fault,
      lost: report.lost,
      appliedTwice: report.appliedTwice,
      duplicateApplications: after.duplicate_applications - before.duplicate_applications,
      appliedOnce: report.appliedOnce,
    }).toEqual({ fault, lost: 0, appliedTwice: 0, duplicateApplications: 0, appliedOnce: report.committed });
    // Recovered: the stream was served again after the fault ended, and the provider caught up.
    expect(report.firstOkAfterMs).toBeDefined();
    expect(caughtUp).toBe(true);
    return { report, outcomes };
  }

  /** A suite step whose time goes into the durations line under `label`. */
  function step(label: string, name: string, body: () => Promise<void>, timeoutMs: number): void {
    steps.step(name, () => timed(label, body), timeoutMs);
  }

  steps.setUp(async () => {
    stack = await createComposeStack({
      projectPrefix: 'profile-ha',
      files: ['docker-compose.ha.yml'],
      extraPorts: KAFKA_PORTS,
      env: { HA_NETWORK_PREFIX: await freeNetworkPrefix() },
    });
    const current = stack;
    const up = await timed('stack up (build, start, healthy)', () => current.up());
    if (up.code !== 0) {
      throw new Error(
        `docker compose up (project ${current.projectName}) exited with ${up.code}:\n` +
          up.stderr.trimEnd().split('\n').slice(-40).join('\n'),
      );
    }
    cluster = new KafkaCluster(KAFKA_PORTS.map((name) => `localhost:${current.ports[name]}`));
    provider = new LoyaltyProvider(current.providerUrl);
    await timed(`${USERS} users signed up`, async () => {
      const admin = new ApiClient(current.managementUrl);
      const throttles = await admin.get('/admin/settings/THROTTLING_SETTINGS', {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const set = await admin.put(
        '/admin/settings/THROTTLING_SETTINGS',
        { value: { ...(throttles.body.value as object), ...THROTTLES } },
        { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
      );
      if (set.status !== 200)
        throw new Error(`THROTTLING_SETTINGS: ${set.status} ${JSON.stringify(set.body)}`);
      for (let first = 0; first < USERS; first += 10) {
        const batch = Array.from({ length: Math.min(10, USERS - first) }, (_, index) => first + index);
        // A replica learns of the new throttles over Redis pub/sub: a 429 before that is retried.
        users.push(
          ...(await Promise.all(
            batch.map((index) =>
              waitFor(
                `user ${index} to sign up`,
                () => signUp(current.apiUrl, `ha${index}`).catch(() => undefined),
                { timeoutMs: 30_000, intervalMs: 500 },
              ),
            ),
          )),
        );
      }
    });
  }, 900_000);

  afterAll(async () => {
    process.stderr.write(
      `\n[ha] ${RATE} PATCH/s over ${USERS} users\n${reportTable(reports)}\n\n[ha] durations: ` +
        durations.map(([what, ms]) => `${what} ${(ms / 1000).toFixed(0)} s`).join('; ') +
        '\n',
    );
    if (!stack) return;
    try {
      if (steps.failed) {
        const ps = await stack.compose(['ps', '--all']);
        process.stderr.write(
          `\n[ha] a step failed; state and logs of ${stack.projectName}:\n${ps.stdout}\n${await stack.logs(40)}\n`,
        );
      }
    } finally {
      await timed('stack down', () => stack!.down());
      process.stderr.write(`[ha] stack down in ${(durations.at(-1)![1] / 1000).toFixed(0)} s\n`);
    }
  }, 300_000);

  step(
    'topology',
    'when the HA stack is up, then three Kafka nodes, three profile-api and three loyalty-sync replicas and HAProxy are healthy, and the topic is replicated three times with min.insync.replicas 2',
    async () => {
      const current = running();
      const expected: Record<string, number> = {
        'kafka-1': 1,
        'kafka-2': 1,
        'kafka-3': 1,
        'profile-api': 3,
        'loyalty-sync': 3,
        haproxy: 1,
      };
      for (const [service, count] of Object.entries(expected)) {
        const ids = await current.containers(service);
        expect({ service, count: ids.length }).toEqual({ service, count });
        for (const id of ids) {
          expect({ service, state: await current.inspect(id) }).toMatchObject({
            service,
            state: { status: 'running', health: 'healthy' },
          });
        }
      }
      expect(await current.containers('kafka')).toEqual([]);
      const partitions = await cluster.partitions(TOPIC);
      expect(partitions).toHaveLength(12);
      for (const { replicas, isr } of partitions) {
        expect({ replicas: replicas.length, isr: isr.length }).toEqual({ replicas: 3, isr: 3 });
      }
      expect((await cluster.topicConfig(TOPIC))['min.insync.replicas']).toBe('2');
      for (const { replicas } of await cluster.partitions('__consumer_offsets')) {
        expect(replicas).toHaveLength(3);
      }
      // The API port is HAProxy's; the replicas' own ports are not published.
      expect((await fetch(`${current.apiUrl}/readyz`)).status).toBe(200);
    },
    120_000,
  );

  step(
    'keep-alive',
    'when a client talks to HAProxy, then it is never told to keep an idle connection longer than HAProxy keeps it open',
    async () => {
      const current = running();
      // The replicas answer "Keep-Alive: timeout=65" to HAProxy. Clients that honour the hint (Node's
      // fetch does) would then reuse a connection HAProxy closed after its 10 s idle timeout, and a
      // PATCH sent just as it closes gets no answer.
      for (const url of [`${current.apiUrl}/readyz`, `${current.managementUrl}/healthz`]) {
        const response = await fetch(url);
        expect({ url, status: response.status, keepAlive: response.headers.get('keep-alive') }).toEqual({
          url,
          status: 200,
          keepAlive: null,
        });
      }
    },
    60_000,
  );

  step(
    'fault a',
    'when the broker leading most partitions is SIGKILLed mid-stream and restarted 15 s later, then no committed update is lost or applied twice',
    async () => {
      await settled();
      await underLoad('a. leader broker SIGKILL', 30_000, async (stream) => {
        await stream.at(5_000);
        const leader = await cluster.busiestLeader(TOPIC);
        const victim = await container(`kafka-${leader.node}`);
        const startedAt = Date.now();
        await docker(['kill', '-s', 'KILL', victim]);
        await stream.at(20_000);
        await docker(['start', victim]);
        return {
          startedAt,
          endedAt: Date.now(),
          what: `kafka-${leader.node} (led ${leader.leads}/${leader.of})`,
        };
      });
    },
    600_000,
  );

  step(
    'fault d',
    'when a profile-api replica is stopped (SIGTERM) mid-stream, then HAProxy drains it and every request succeeds',
    async () => {
      await settled();
      const { report } = await underLoad('d. api replica SIGTERM', 15_000, async (stream) => {
        await stream.at(4_000);
        const victim = await container('profile-api');
        const startedAt = Date.now();
        await docker(['stop', '--time', '30', victim]);
        await docker(['start', victim]);
        return { startedAt, endedAt: Date.now(), what: 'profile-api replica 1 (drained)' };
      });
      expect(report.other).toEqual({});
    },
    600_000,
  );

  step(
    'fault b',
    'when a profile-api replica is SIGKILLed mid-stream, then only the PATCHes it held fail and no committed update is lost or applied twice',
    async () => {
      await settled();
      const { report } = await underLoad('b. api replica SIGKILL', 20_000, async (stream) => {
        await stream.at(5_000);
        const victim = await container('profile-api');
        const startedAt = Date.now();
        await docker(['kill', '-s', 'KILL', victim]);
        // A killed container stays down under `restart: unless-stopped` (docker counts a kill as a stop).
        await stream.at(10_000);
        await docker(['start', victim]);
        return { startedAt, endedAt: Date.now(), what: 'profile-api replica 1' };
      });
      // What the dead replica held when it died: never retried elsewhere (not idempotent), a few at most.
      const failures = Object.values(report.other).reduce((sum, count) => sum + count, 0);
      expect(failures).toBeLessThanOrEqual(RATE);
    },
    600_000,
  );

  step(
    'fault c',
    'when the quorum is lost (one broker SIGKILLed, a second restarted) and regained, then no committed update is lost or applied twice',
    async () => {
      await settled();
      // 40 s: the stream goes on well past the fault's end (about 23 s in), so recovery is seen.
      await underLoad('c. quorum lost', 40_000, async (stream) => {
        await stream.at(5_000);
        const leader = await cluster.busiestLeader(TOPIC);
        const first = await container(`kafka-${leader.node}`);
        const second = (leader.node % 3) + 1;
        const startedAt = Date.now();
        await docker(['kill', '-s', 'KILL', first]);
        await stream.at(10_000);
        // One node of three left while it restarts: no quorum, no leader changes, no ISR of 2.
        // Without a quorum its controlled shutdown cannot finish: 5 s of grace, not 30, keep the
        // fault's length bounded (a run took 30 s + start here and ended after the stream).
        await docker(['restart', '--time', '5', await container(`kafka-${second}`)]);
        await stream.at(22_000);
        await docker(['start', first]);
        return {
          startedAt,
          endedAt: Date.now(),
          what: `kafka-${leader.node} SIGKILL, kafka-${second} restarted`,
        };
      });
      await settled();
    },
    600_000,
  );

  step(
    'xff',
    'when clients reach profile-api through HAProxy, then it tells them apart by the address HAProxy saw, whatever X-Forwarded-For they send',
    async () => {
      const current = running();
      const admin = new ApiClient(current.managementUrl);
      const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const saved = (await admin.get('/admin/settings/THROTTLING_SETTINGS', { headers: bearer })).body.value;
      const setLogin = async (login: string) => {
        const set = await admin.put(
          '/admin/settings/THROTTLING_SETTINGS',
          { value: { ...(saved as object), login } },
          { headers: bearer },
        );
        expect(set.status).toBe(200);
      };
      // A wrong login from an address of the client's choosing each time: the throttle counts by req.ip.
      const login = (client: string) =>
        fetch(`${current.apiUrl}/users/login/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
          body: JSON.stringify({
            email: `nobody.${randomUUID().slice(0, 8)}@example.com`,
            password: 'wrong',
          }),
        }).then((response) => response.status);
      await setLogin('2/min');
      try {
        let spoofed = 0;
        // Replicas learn of the new rate over Redis pub/sub: attempts go on until one is refused.
        await waitFor(
          'a login from this machine to be throttled although each claims another address',
          async () => (await login(`203.0.113.${++spoofed % 250}`)) === 429,
          { timeoutMs: 30_000, intervalMs: 200 },
        );
        expect(await login('198.51.100.7')).toBe(429);
        // Another client (a container on the stack's network) has a bucket of its own.
        const [inside] = await current.containers('loyalty-sync');
        const script =
          "fetch('http://haproxy:8080/users/login/',{method:'POST',headers:{'content-type':'application/json'}," +
          "body:JSON.stringify({email:'someone.else@example.com',password:'wrong'})}).then(r=>console.log(r.status))";
        const other = await run('docker', ['exec', inside!, 'node', '-e', script], { timeoutMs: 30_000 });
        expect({ code: other.code, status: other.stdout.trim() }).toEqual({ code: 0, status: '400' });
      } finally {
        await setLogin(String((saved as Record<string, unknown>).login));
      }
    },
    120_000,
  );
});
