// The whole stack as docker-compose.yml ships it (built images, one-shot init, two loyalty-sync
// replicas), driven only through its published ports. A project of its own on free host ports: it
// never touches a developer's stack. Steps share one stack and run in order.
import { randomUUID } from 'node:crypto';
import { waitFor } from '@app/testkit';
import { ApiClient, expectStatus } from '../support/api-client.ts';
import { createComposeStack, run, type ComposeStack } from '../support/compose-stack.ts';
import { LoyaltyProvider, type CustomerView } from '../support/loyalty-sync.ts';
import { codeFrom } from '../support/profile-api.ts';
import { PASSWORD, signUp, type SignedUp } from '../support/sign-up.ts';
import { createSuiteSteps } from '../support/suite-steps.ts';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshot, watchPage } from '../support/browser.ts';
import {
  describeTrace,
  isAncestor,
  newTraceparent,
  readTrace,
  updateStages,
  type UpdateTrace,
  type ZipkinSpan,
} from '../support/zipkin.ts';

const LOYALTY = '/users/profile-with-loyalty/';
/** Step 5: users updating at once, and updates each; every one is a loyalty sync. */
const STREAM_USERS = 6;
const UPDATES_PER_USER = 20;
const TOPIC = 'profile.events.v1';
/** Breaker state as loyalty_sync_breaker_state exports it. */
const BREAKER_OPEN = 2;
const BREAKER_CLOSED = 0;

describe('full stack (docker compose): profile-api → Kafka → loyalty-sync replicas → provider-sim', () => {
  let stack: ComposeStack | undefined;
  let provider: LoyaltyProvider;
  const steps = createSuiteSteps();
  const { step } = steps;
  let phoneUser: SignedUp | undefined;
  let verifiedPhone: string | undefined;
  /** The trace of the traced update step, opened in the browser step. */
  let tracedUpdateId: string | undefined;

  function running(): ComposeStack {
    if (!stack) throw new Error('the compose stack did not start (see beforeAll)');
    return stack;
  }

  steps.setUp(async () => {
    const started = Date.now();
    stack = await createComposeStack();
    const up = await stack.up();
    if (up.code !== 0) {
      throw new Error(
        `docker compose up --build --wait (project ${stack.projectName}) exited with ${up.code}:\n` +
          lastLines(up.stderr, 40),
      );
    }
    provider = new LoyaltyProvider(stack.providerUrl);
    process.stderr.write(
      `[e2e] ${stack.projectName} up in ${Math.round((Date.now() - started) / 1000)} s ` +
        `(api ${stack.apiUrl}, provider-sim ${stack.providerUrl})\n`,
    );
    // Cold image builds take minutes on two cores; the compose command has its own budget below this.
  }, 600_000);

  afterAll(async () => {
    if (!stack) return;
    try {
      if (steps.failed) {
        const ps = await stack.compose(['ps', '--all']);
        process.stderr.write(
          `\n[e2e] a step failed; state and docker compose logs --tail=50 of ${stack.projectName}:\n` +
            `${ps.stdout}${ps.stderr}\n${await stack.logs(50)}\n`,
        );
      }
    } finally {
      await stack.down();
    }
  }, 240_000);

  step(
    'when the stack is up, then every service is healthy (Zipkin and VictoriaMetrics too), init has finished and two loyalty-sync replicas run',
    async () => {
      const current = running();
      for (const service of ['mongo', 'redis', 'kafka', 'provider-sim', 'profile-api', 'loyalty-sync']) {
        const ids = await current.containers(service);
        expect({ service, count: ids.length }).toEqual({
          service,
          count: service === 'loyalty-sync' ? 2 : 1,
        });
        for (const id of ids) {
          expect({ service, state: await current.inspect(id) }).toMatchObject({
            service,
            state: { status: 'running', health: 'healthy' },
          });
        }
      }
      // The trace and metrics backends: the local images check their health, official
      // victoria-metrics has no check of its own.
      for (const service of ['zipkin', 'victoriametrics']) {
        const ids = await current.containers(service);
        expect({ service, count: ids.length }).toEqual({ service, count: 1 });
        const state = await current.inspect(ids[0]!);
        expect({ service, status: state.status, health: state.health ?? 'healthy' }).toEqual({
          service,
          status: 'running',
          health: 'healthy',
        });
      }
      const [init] = await current.containers('init');
      expect(await current.inspect(init!)).toMatchObject({ status: 'exited', exitCode: 0 });
      expect((await fetch(`${current.apiUrl}/readyz`)).status).toBe(200);
      // Operators' endpoints only on the management port (MANAGEMENT_PORT in docker-compose.yml).
      expect((await fetch(`${current.apiUrl}/metrics`)).status).toBe(404);
      expect((await fetch(`${current.managementUrl}/metrics`)).status).toBe(200);
      const loyalty = await fetch(`${current.managementUrl}/admin/settings/CUSTOMER_LOYALTY_CARD_SERVICE`, {
        headers: { authorization: `Bearer ${process.env.ADMIN_TOKEN || 'local-admin-token'}` },
      });
      expect(loyalty.status).toBe(200);
      // What init seeded through the management port, with the provider-sim key answered masked.
      expect(await loyalty.json()).toMatchObject({ value: { enabled: true, api_key: '****' } });
      // What init seeded: the demo user can log in.
      const demo = await new ApiClient(current.apiUrl).post('/users/login/', {
        email: 'demo@example.com',
        password: 'demo password',
      });
      expectStatus(demo, 200, 'the demo login');
    },
    60_000,
  );

  step(
    'when a user registers and then logs in through profile-api, then the session reads their profile',
    async () => {
      const client = new ApiClient(running().apiUrl);
      const email = `e2e.${randomUUID().slice(0, 8)}@example.com`;

      const registration = await client.post('/users/registration/', {
        email,
        password: PASSWORD,
        first_name: 'Grace',
        last_name: 'Hopper',
        confirm: true,
      });
      expectStatus(registration, 201, 'registration');
      const login = await client.post('/users/login/', { email, password: PASSWORD });
      expectStatus(login, 200, 'login');
      expect(client.cookie('sessionid')).toBeTruthy();
      expect(client.cookie('csrftoken')).toBeTruthy();

      const profile = await client.get(LOYALTY);
      expectStatus(profile, 200, 'reading the profile');
      expect(profile.body).toMatchObject({ email, first_name: 'Grace', last_name: 'Hopper', phone: null });
      phoneUser = { client, id: profile.body.id as number, email };
    },
    60_000,
  );

  step(
    'when the phone changes on profile-with-loyalty, then 202 and an SMS code; the same PATCH with the code, then 200',
    async () => {
      const user = phoneUser;
      if (!user) throw new Error('no logged-in user: the registration step failed');
      const phone = `+90532${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`;
      const change = { phone, first_name: 'Amazing Grace' };

      const pending = await user.client.patch(LOYALTY, change);
      expectStatus(pending, 202, 'the phone change without a code');
      expect(pending.body).toEqual({ detail: 'Verification code sent.' });

      const messages = await waitFor(
        `provider-sim to receive the SMS to ${phone}`,
        async () => {
          const received = await smsMessagesTo(running().providerUrl, phone);
          return received.length > 0 ? received : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(messages).toHaveLength(1);
      const code = codeFrom(messages[0]!.text);

      const confirmed = await user.client.patch(LOYALTY, { ...change, code });
      expectStatus(confirmed, 200, 'the phone change with its code');
      expect(confirmed.body).toMatchObject({ id: user.id, phone, first_name: 'Amazing Grace' });
      verifiedPhone = phone;
    },
    60_000,
  );

  step(
    'when the phone change is committed, then provider-sim receives the loyalty update with the new phone, once',
    async () => {
      const user = phoneUser;
      const phone = verifiedPhone;
      if (!user || !phone) throw new Error('no verified phone change: the previous step failed');

      const customer = await waitFor(
        `provider-sim to hold customer ${user.id} with phone ${phone}`,
        async () => {
          const found = await provider.customer(user.id);
          return found?.current.phone === phone ? found : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );

      expect(customer.applications).toBe(1);
      expect(customer.history).toHaveLength(1);
      expect(customer.current).toMatchObject({ phone, first_name: 'Amazing Grace', email: user.email });
      expect((await provider.stats()).duplicate_applications).toBe(0);
    },
    90_000,
  );

  step(
    `when one loyalty-sync replica restarts while ${STREAM_USERS * UPDATES_PER_USER} updates stream in, ` +
      'then every update reaches provider-sim exactly once, in order',
    async () => {
      const current = running();
      const users = await Promise.all(
        Array.from({ length: STREAM_USERS }, (_, index) => signUp(current.apiUrl, `stream${index}`)),
      );
      const replicas = await current.containers('loyalty-sync');
      expect(replicas).toHaveLength(2);
      const victim = replicas[0]!;
      const before = await current.inspect(victim);
      // A little provider latency keeps the consumers busy, so the restart lands mid-work.
      await provider.faults({ latency_ms: 40 });

      const total = STREAM_USERS * UPDATES_PER_USER;
      let sent = 0;
      let restartedAt = 0;
      const appliedBefore = (await provider.stats()).applied;
      const restartReplica = async () => {
        const startedAt = Date.now();
        const at = { sent, applied: (await provider.stats()).applied - appliedBefore };
        const result = await run('docker', ['restart', '--time', '10', victim], { timeoutMs: 60_000 });
        if (result.code !== 0) throw new Error(`docker restart ${victim}: ${result.stderr}`);
        restartedAt = sent;
        const restarted = Date.now();
        await waitFor(
          `the restarted loyalty-sync replica ${victim.slice(0, 12)} to be healthy again`,
          async () => {
            const state = await current.inspect(victim);
            return state.startedAt !== before.startedAt && state.health === 'healthy';
          },
          { timeoutMs: 90_000, intervalMs: 500 },
        );
        process.stderr.write(
          `[e2e] restarted loyalty-sync ${victim.slice(0, 12)} at ${at.sent}/${total} updates sent, ` +
            `${at.applied} applied: stop+start ${restarted - startedAt} ms, healthy after ${Date.now() - startedAt} ms\n`,
        );
      };

      // Restarted once a third of the updates went out; the last third of each user's updates waits
      // until the replica is back, so updates arrive before, during and after the restart.
      let triggerRestart!: () => void;
      const restart = new Promise<void>((resolve) => (triggerRestart = resolve)).then(restartReplica);
      restart.catch(() => undefined); // awaited below; no unhandled rejection meanwhile

      const expected = new Map<number, string[]>();
      const stream = users.map(async (user, index) => {
        const names: string[] = [];
        expected.set(user.id, names);
        for (let update = 0; update < UPDATES_PER_USER; update += 1) {
          if (sent >= total / 3) triggerRestart();
          if (update >= (UPDATES_PER_USER * 2) / 3) await restart;
          const name = `U${index}-${update}`;
          const response = await user.client.patch(LOYALTY, {
            first_name: name,
            sms_allowed: update % 2 === 0,
          });
          expectStatus(response, 200, `update ${update} of user ${user.id}`);
          names.push(name);
          sent += 1;
        }
      });
      await Promise.all(stream);
      await restart;
      await provider.clearFaults();
      expect(restartedAt).toBeLessThan(total); // updates kept coming after the replica was back

      let progress = '';
      try {
        await waitFor(
          'every update to reach provider-sim',
          async () => {
            const views = await Promise.all(users.map((user) => provider.customer(user.id)));
            progress = users
              .map((user, index) => {
                const view = views[index];
                return `user ${user.id}: ${view?.applications ?? 0}/${UPDATES_PER_USER} applied, last ${view?.current.first_name ?? '-'}`;
              })
              .join('; ');
            return users.every((user, index) => {
              const names = expected.get(user.id)!;
              return views[index]?.current.first_name === names[names.length - 1];
            });
          },
          { timeoutMs: 120_000, intervalMs: 500 },
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}\nprovider-sim so far: ${progress}`, { cause: error });
      }

      for (const user of users) {
        const view = (await provider.customer(user.id)) as CustomerView;
        const names = expected.get(user.id)!;
        expect({ user: user.id, applied: view.history.map((entry) => entry.payload.first_name) }).toEqual({
          user: user.id,
          applied: names,
        });
        expect({ user: user.id, current: view.current }).toMatchObject({
          user: user.id,
          current: { first_name: names[names.length - 1], sms_allowed: (UPDATES_PER_USER - 1) % 2 === 0 },
        });
        const versions = view.history.map((entry) => entry.payload.profile_version as number);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
      }
      const stats = await provider.stats();
      expect(stats.duplicate_applications).toBe(0);
      expect(stats.max_applications_per_key).toBe(1);
      // Both replicas still serve the group afterwards.
      for (const id of await current.containers('loyalty-sync')) {
        expect(await current.inspect(id)).toMatchObject({ status: 'running', health: 'healthy' });
      }
    },
    300_000,
  );

  /**
   * A with-loyalty PATCH sent with a traceparent of the test's own (so the trace id is known), then
   * Zipkin read until the update's whole path is there: `complete` says when.
   */
  async function tracedUpdate(
    user: SignedUp,
    change: Record<string, unknown>,
    complete: (stages: UpdateTrace, spans: ZipkinSpan[]) => boolean,
    timeoutMs: number,
  ): Promise<{ traceId: string; spans: ZipkinSpan[]; stages: UpdateTrace }> {
    const { traceId, traceparent } = newTraceparent();
    const response = await user.client.patch(LOYALTY, change, { headers: { traceparent } });
    expectStatus(response, 200, `the traced update of user ${user.id}`);
    let spans: ZipkinSpan[] = [];
    try {
      return await waitFor(
        `Zipkin to hold trace ${traceId} from the request to the provider call`,
        async () => {
          spans = await readTrace(running().zipkinUrl, traceId);
          const stages = updateStages(spans, { path: LOYALTY, topic: TOPIC, userId: user.id });
          return complete(stages, spans) ? { traceId, spans, stages } : undefined;
        },
        { timeoutMs, intervalMs: 1_000 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\ntrace so far:\n${describeTrace(spans)}`, {
        cause: error,
      });
    }
  }

  /** The causal chain request → database write → produce → consume → provider call, in one trace. */
  function expectCausalChain(spans: ZipkinSpan[], stages: UpdateTrace, providerCall: ZipkinSpan): void {
    const { server, dbWrite, produce } = stages;
    const shape = describeTrace(spans);
    expect({ server: !!server, dbWrite: !!dbWrite, produce: !!produce, shape }).toEqual({
      server: true,
      dbWrite: true,
      produce: true,
      shape,
    });
    const consume = stages.consumes.find((span) => isAncestor(spans, span, providerCall));
    expect({
      dbWriteUnderRequest: isAncestor(spans, server!, dbWrite!),
      produceUnderRequest: isAncestor(spans, server!, produce!),
      consumeUnderProduce: !!consume && isAncestor(spans, produce!, consume),
      providerCallUnderConsume: !!consume,
      shape,
    }).toEqual({
      dbWriteUnderRequest: true,
      produceUnderRequest: true,
      consumeUnderProduce: true,
      providerCallUnderConsume: true,
      shape,
    });
    // And in time: the commit's write, then the publish, then the consumer, then the call.
    const order = [dbWrite!, produce!, consume!, providerCall].map((span) => span.timestamp ?? 0);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }

  step(
    'when a with-loyalty PATCH commits, then one Zipkin trace holds the request, the database write, ' +
      'the Kafka produce, the consume and the provider call, in causal order',
    async () => {
      const user = await signUp(running().apiUrl, 'traced');
      const { traceId, spans, stages } = await tracedUpdate(
        user,
        { first_name: 'Traced' },
        // provider-sim exports its side of the call on its own schedule: wait for it too.
        (found, spans) =>
          !!(found.server && found.dbWrite && found.produce && found.providerCalls.length > 0) &&
          spans.some((span) => span.kind === 'SERVER' && span.localEndpoint?.serviceName === 'provider-sim'),
        60_000,
      );
      expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
      expect(stages.providerCalls).toHaveLength(1);
      expectCausalChain(spans, stages, stages.providerCalls[0]!);
      // Probes and scrapes make no spans, and provider-sim's side of the call is in the trace too.
      expect(spans.filter((span) => /healthz|readyz|metrics/.test(span.name ?? ''))).toEqual([]);
      expect(
        spans.some((span) => span.kind === 'SERVER' && span.localEndpoint?.serviceName === 'provider-sim'),
      ).toBe(true);
      tracedUpdateId = traceId;
    },
    90_000,
  );

  step(
    'when the provider is down until the breaker opens and then recovers, then the call that finally ' +
      'succeeds is still in the trace of the update that caused it',
    async () => {
      const user = await signUp(running().apiUrl, 'outage');
      await provider.faults({ down: true, status: 503 });
      let traced: Awaited<ReturnType<typeof tracedUpdate>>;
      try {
        // The failed attempts are in the trace before the circuit opens.
        traced = await tracedUpdate(
          user,
          { first_name: 'Outage' },
          (found) => found.providerCalls.length > 0,
          60_000,
        );
        await waitFor(
          "a loyalty-sync worker's breaker to open (VictoriaMetrics)",
          async () => (await breakerState(running().victoriaMetricsUrl, 'max')) === BREAKER_OPEN,
          { timeoutMs: 60_000, intervalMs: 1_000 },
        );
      } finally {
        await provider.clearFaults();
      }
      await waitFor(
        `provider-sim to apply user ${user.id}'s update after the outage`,
        async () => (await provider.customer(user.id))?.current.first_name === 'Outage',
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      await waitFor(
        'every loyalty-sync breaker to be closed again (VictoriaMetrics)',
        async () => (await breakerState(running().victoriaMetricsUrl, 'max')) === BREAKER_CLOSED,
        { timeoutMs: 60_000, intervalMs: 1_000 },
      );

      const succeeded = (span: ZipkinSpan) => /^2\d\d$/.test(span.tags?.['http.response.status_code'] ?? '');
      const { spans, stages } = await waitFor(
        `the successful provider call to reach trace ${traced.traceId}`,
        async () => {
          const spans = await readTrace(running().zipkinUrl, traced.traceId);
          const stages = updateStages(spans, { path: LOYALTY, topic: TOPIC, userId: user.id });
          return stages.providerCalls.some(succeeded) ? { spans, stages } : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1_000 },
      );
      const failed = stages.providerCalls.filter((span) => !succeeded(span));
      expect(failed.length).toBeGreaterThan(0);
      expect(stages.consumes.length).toBeGreaterThan(1); // handled again after the circuit closed
      expectCausalChain(spans, stages, stages.providerCalls.find(succeeded)!);
    },
    240_000,
  );

  step(
    'when the trace and the metrics dashboard are opened in a browser, then both render with data',
    async () => {
      const current = running();
      const traceId = tracedUpdateId;
      if (!traceId) throw new Error('no traced update: the tracing step failed');
      // Metrics of the updates above, scraped (every 5 s) before the page asks for them.
      await waitFor(
        'VictoriaMetrics to hold profile-api commits and loyalty-sync calls',
        async () =>
          (await instantQuery(current.victoriaMetricsUrl, 'sum(profile_updates_committed_total)')) > 0 &&
          (await instantQuery(current.victoriaMetricsUrl, 'sum(loyalty_sync_provider_calls_total)')) > 0,
        { timeoutMs: 30_000, intervalMs: 1_000 },
      );
      const browser = await launchBrowser();
      // Each page's screenshot is taken whatever its checks found: the picture explains a failure.
      const shots: [Page, string][] = [];
      try {
        const tracePage = await browser.context.newPage();
        shots.push([tracePage, 'zipkin-trace']);
        const zipkin = watchPage(tracePage);
        const traceResponse = await tracePage.goto(`${current.zipkinUrl}/zipkin/traces/${traceId}`);
        expect(traceResponse?.status()).toBe(200);
        for (const service of ['profile-api', 'loyalty-sync', 'provider-sim']) {
          await tracePage.getByText(service).first().waitFor({ state: 'visible', timeout: 20_000 });
        }
        await tracePage.getByText(`send ${TOPIC}`).first().waitFor({ state: 'visible', timeout: 20_000 });

        const dashboardPage = await browser.context.newPage();
        shots.push([dashboardPage, 'victoriametrics-dashboard']);
        const vmui = watchPage(dashboardPage);
        const dashboardResponse = await dashboardPage.goto(`${current.victoriaMetricsUrl}/vmui/#/dashboards`);
        expect(dashboardResponse?.status()).toBe(200);
        await dashboardPage
          .getByText('Requests per second by route')
          .waitFor({ state: 'visible', timeout: 20_000 });
        // vmui opens the first row only; the others open with their header's arrow (a click on the
        // title itself does not toggle vmui v1.151's accordion).
        for (const row of ['profile-api: writes and outbox', 'loyalty-sync', 'Providers']) {
          await dashboardPage
            .locator('.vm-predefined-dashboard')
            .filter({ has: dashboardPage.getByText(row, { exact: true }) })
            .locator('.vm-accordion-header__arrow')
            .click();
        }
        // A panel queries once it scrolls into view: a page tall enough to show them all.
        await dashboardPage.setViewportSize({ width: 1440, height: 7200 });
        for (const title of [
          'Commits per second by source',
          'Consumer lag per partition',
          'Loyalty card call latency',
        ]) {
          await dashboardPage.getByText(title).waitFor({ state: 'visible', timeout: 20_000 });
        }
        // Series drawn, with their labels in the legend: the panels have data, not "No data".
        for (const series of [
          'route="/users/profile-with-loyalty/"',
          'source="profile-with-loyalty"',
          'outcome="applied"',
        ]) {
          await dashboardPage.getByText(series).first().waitFor({ state: 'visible', timeout: 30_000 });
        }

        for (const [page, base] of [
          [zipkin, current.zipkinUrl],
          [vmui, current.victoriaMetricsUrl],
        ] as const) {
          expect(
            page.requested.filter((url) => !url.startsWith(`${base}/`) && !url.startsWith('data:')),
          ).toEqual([]);
          expect(page.problems).toEqual([]);
        }
      } finally {
        for (const [page, name] of shots) {
          const file = await screenshot(page, name).catch((error: Error) => `none (${error.message})`);
          process.stderr.write(`[e2e] screenshot ${file}\n`);
        }
        await browser.close();
      }
    },
    120_000,
  );
});

/** The value of an instant PromQL query that yields one series (0 when it yields none). */
async function instantQuery(victoriaMetricsUrl: string, query: string): Promise<number> {
  const response = await fetch(`${victoriaMetricsUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (!response.ok) throw new Error(`VictoriaMetrics answered ${response.status} to ${query}`);
  const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
  const [first] = body.data.result;
  return first ? Number(first.value[1]) : 0;
}

/** The breaker state of the loyalty-sync workers, aggregated over them (as last scraped). */
function breakerState(victoriaMetricsUrl: string, aggregate: 'max' | 'min'): Promise<number> {
  return instantQuery(victoriaMetricsUrl, `${aggregate}(loyalty_sync_breaker_state)`);
}

/** provider-sim's record of the SMS it was asked to send to a number, oldest first. */
async function smsMessagesTo(providerUrl: string, to: string): Promise<{ to: string; text: string }[]> {
  const response = await fetch(`${providerUrl}/sms/messages?to=${encodeURIComponent(to)}`);
  return ((await response.json()) as { messages: { to: string; text: string }[] }).messages;
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
