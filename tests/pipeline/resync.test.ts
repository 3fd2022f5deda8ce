import type { Kafka } from 'kafkajs';
import { createKafka } from '@app/kafka';
import { createLogger } from '@app/service-kit';
import { waitFor } from '@app/testkit';
import type { ApiClient } from '../support/api-client.ts';
import { stackUrls } from '../support/env.ts';
import { LoyaltyProvider, groupCaughtUp, loyaltyCardSetting, suiteNames } from '../support/loyalty-sync.ts';
import { spawnPipelineWorker } from '../support/pipeline.ts';
import { runProfileApiCli, type CliRun } from '../support/profile-api-process.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import type { WorkerProcess } from '../support/workers.ts';

const LOYALTY = '/users/profile-with-loyalty/';

/**
 * The resync command against the whole pipeline: profile-api (its outbox and relay), Kafka,
 * loyalty-sync in a process of its own and provider-sim's loyalty card API. Updates the provider
 * never got (sync off, or plain updates while sync_all_updates is off) reach it only through resync.
 */
describe('pipeline: resync brings the loyalty card service up to date', () => {
  const names = suiteNames('resync');
  let harness: ProfileApiHarness;
  let worker: WorkerProcess;
  let provider: LoyaltyProvider;
  let kafka: Kafka;

  const loyaltySetting = (enabled: boolean) => loyaltyCardSetting(harness.sim.url, { enabled });

  beforeAll(async () => {
    harness = await startProfileApiHarness('resync', { PROFILE_EVENTS_TOPIC: names.topic });
    provider = new LoyaltyProvider(harness.sim.url);
    kafka = createKafka({
      brokers: stackUrls().kafkaBrokers,
      clientId: 'resync-test',
      logger: createLogger('resync-test', { level: 'error' }),
    });
    await harness.setSetting('CUSTOMER_LOYALTY_CARD_SERVICE', loyaltySetting(false));
    worker = await spawnPipelineWorker('resync-worker', names, harness);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await harness?.stop();
  });

  /** The command as an operator runs it, in profile-api's environment. */
  const resync = (...args: string[]): Promise<CliRun> =>
    runProfileApiCli('resync', args, {
      MONGO_URL: harness.api.config.mongoUrl,
      REDIS_URL: harness.api.config.redisUrl,
      KAFKA_BROKERS: stackUrls().kafkaBrokers,
      PROFILE_EVENTS_TOPIC: names.topic,
      SECRET_KEY: harness.api.config.secretKey,
      ADMIN_TOKEN: harness.api.config.adminToken,
    });

  async function idOf(client: ApiClient): Promise<number> {
    return (await client.get('/users/profile/')).body.id as number;
  }

  /** Every event committed so far has been published and handled (applied or skipped) by the worker. */
  async function workerCaughtUp(userIds: number[]): Promise<void> {
    for (const userId of userIds) {
      await waitFor(`user ${userId}'s outbox to empty`, async () => {
        const user = await harness.storedDocument('users', String(userId));
        return ((user?.outbox as unknown[] | undefined) ?? []).length === 0;
      });
    }
    await waitFor('the worker to reach the end of the topic', () =>
      groupCaughtUp(kafka, names.group, names.topic),
    );
  }

  test('when a user changed while the sync was off, then after it is turned on a resync brings the provider up to date, once per resync', async () => {
    const { client, email } = await harness.signUp();
    const userId = await idOf(client);
    expect((await client.patch(LOYALTY, { first_name: 'WhileOff', sms_allowed: true })).status).toBe(200);
    await workerCaughtUp([userId]);
    expect(await provider.customer(userId)).toBeUndefined();

    await harness.setSetting('CUSTOMER_LOYALTY_CARD_SERVICE', loyaltySetting(true));
    // A with-loyalty change of another user reaching the provider shows the worker reads the new setting.
    const witness = await harness.signUp();
    const witnessId = await idOf(witness.client);
    await waitFor('the worker to apply the enabled setting', async () => {
      await witness.client.patch(LOYALTY, { attributes: { at: Date.now() } });
      return (await provider.customer(witnessId)) !== undefined;
    });
    expect(await provider.customer(userId)).toBeUndefined();

    const first = await resync('--user', String(userId));
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain(`user ${userId}: published version 3`);
    const customer = await waitFor('the resynced profile at the provider', async () => {
      const found = await provider.customer(userId);
      return found?.current.profile_version === 3 ? found : undefined;
    });
    expect(customer.current).toEqual({
      first_name: 'WhileOff',
      last_name: 'Lovelace',
      email,
      phone: null,
      date_of_birth: null,
      gender: null,
      language_code: 'en',
      email_allowed: false,
      sms_allowed: true,
      whatsapp_allowed: false,
      call_allowed: null,
      profile_version: 3,
    });
    expect(customer.applications).toBe(1);

    const second = await resync('--user', String(userId));
    expect(second.code).toBe(0);
    await workerCaughtUp([userId]);
    const again = (await provider.customer(userId))!;
    expect(again.current.profile_version).toBe(4);
    expect(again.history.map((entry) => entry.payload.profile_version)).toEqual([3, 4]);
    expect(again.applications).toBe(2);
    expect((await provider.stats()).duplicate_applications).toBe(0);
    expect((await client.get('/users/profile/')).body).toMatchObject({ first_name: 'WhileOff' });
  });

  test('when plain updates were never synced, then resync --all brings every user to the provider once and prints the counts', async () => {
    await harness.setSetting('CUSTOMER_LOYALTY_CARD_SERVICE', loyaltySetting(true));
    const plain: number[] = [];
    for (const name of ['Plain1', 'Plain2', 'Plain3']) {
      const { client } = await harness.signUp();
      const updated = await client.patch('/users/profile/', { last_name: name });
      plain.push(updated.body.id as number);
    }
    // sync_all_updates is off: the worker skips plain updates.
    await workerCaughtUp(plain);
    for (const userId of plain) expect(await provider.customer(userId)).toBeUndefined();

    const run = await resync('--all', '--concurrency', '2');

    expect(run.code).toBe(0);
    const done = /done: (\d+) users: published (\d+), left for the relay (\d+), not found 0, failed 0/.exec(
      run.stdout,
    );
    expect(done).not.toBeNull();
    const [users, published, leftForRelay] = done!.slice(1).map(Number) as [number, number, number];
    expect(users).toBeGreaterThanOrEqual(plain.length);
    expect(published + leftForRelay).toBe(users);
    for (const [index, userId] of plain.entries()) {
      const customer = await waitFor(`user ${userId} at the provider`, () => provider.customer(userId));
      expect(customer.current).toMatchObject({ last_name: `Plain${index + 1}`, profile_version: 3 });
      expect(customer.applications).toBe(1);
    }
    await workerCaughtUp(plain);
    expect((await provider.stats()).duplicate_applications).toBe(0);
  });

  test('when neither or both of --user and --all are given, or the user does not exist, then it says so and exits non-zero', async () => {
    expect((await resync()).code).toBe(2);
    expect((await resync('--all', '--user', '1')).code).toBe(2);
    const missing = await resync('--user', '999999');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('user 999999: not found');
  });
});
