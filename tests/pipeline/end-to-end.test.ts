import { waitFor } from '@app/testkit';
import { LoyaltyProvider, loyaltyCardSetting, suiteNames } from '../support/loyalty-sync.ts';
import { spawnPipelineWorker } from '../support/pipeline.ts';
import {
  codeFrom,
  smsMessagesTo,
  startProfileApiHarness,
  type ProfileApiHarness,
} from '../support/profile-api.ts';
import type { WorkerProcess } from '../support/workers.ts';

const LOYALTY = '/users/profile-with-loyalty/';

/**
 * The whole pipeline: profile-api (outbox relay) → Kafka → loyalty-sync (a separate process) →
 * provider-sim's loyalty card API, with the live settings shared through MongoDB and Redis.
 */
describe('pipeline: profile update to loyalty card service', () => {
  const names = suiteNames('e2e');
  let harness: ProfileApiHarness;
  let worker: WorkerProcess;
  let provider: LoyaltyProvider;

  beforeAll(async () => {
    harness = await startProfileApiHarness('e2e', { PROFILE_EVENTS_TOPIC: names.topic });
    provider = new LoyaltyProvider(harness.sim.url);
    await harness.setSetting('CUSTOMER_LOYALTY_CARD_SERVICE', loyaltyCardSetting(harness.sim.url));
    worker = await spawnPipelineWorker('e2e-worker', names, harness);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await harness?.stop();
  });

  test('when a profile is updated through the with-loyalty endpoint, then provider-sim receives its loyalty fields', async () => {
    const { client, email } = await harness.signUp();
    const updated = await client.patch(LOYALTY, { first_name: 'Loyal', sms_allowed: true, gender: 'female' });
    const userId = updated.body.id as number;

    const customer = await waitFor('the loyalty update at the provider', async () => {
      const found = await provider.customer(userId);
      return found?.current.first_name === 'Loyal' ? found : undefined;
    });

    expect(customer.current).toEqual({
      first_name: 'Loyal',
      last_name: 'Lovelace',
      email,
      phone: null,
      date_of_birth: null,
      gender: 'female',
      language_code: 'en',
      email_allowed: false,
      sms_allowed: true,
      whatsapp_allowed: false,
      call_allowed: null,
      profile_version: 2,
    });
    expect(customer.applications).toBe(1);
  });

  test('when a phone change is confirmed with the SMS code, then the provider receives the new number once', async () => {
    const { client } = await harness.signUp();
    const phone = '+905351112233';
    // Asking for a code for the current, unverified number is explicit: resend.
    expect((await client.patch(LOYALTY, { phone, resend: true })).status).toBe(202);
    const [sms] = await waitFor('the SMS', async () => {
      const messages = await smsMessagesTo(harness.sim, phone);
      return messages.length > 0 ? messages : undefined;
    });
    const confirmed = await client.patch(LOYALTY, { phone, code: codeFrom(sms!.text) });
    expect(confirmed.status).toBe(200);
    const userId = confirmed.body.id as number;

    const customer = await waitFor('the new phone at the provider', async () => {
      const found = await provider.customer(userId);
      return found?.current.phone === phone ? found : undefined;
    });
    expect(customer.history).toHaveLength(1);
    expect((await provider.stats()).duplicate_applications).toBe(0);
  });

  test('when a phone set through /users/profile/ was never verified, then the next loyalty update sends phone null; once a code confirms it, the number', async () => {
    const { client } = await harness.signUp();
    const phone = '+905351114455';
    expect((await client.patch('/users/profile/', { phone })).status).toBe(200);
    const updated = await client.patch(LOYALTY, { first_name: 'Unverified' });
    const userId = updated.body.id as number;

    const unverified = await waitFor('the loyalty update at the provider', async () => {
      const found = await provider.customer(userId);
      return found?.current.first_name === 'Unverified' ? found : undefined;
    });
    expect(unverified.current.phone).toBeNull();

    // Asking for a code for the current, unverified number is explicit: resend.
    expect((await client.patch(LOYALTY, { phone, resend: true })).status).toBe(202);
    const [sms] = await waitFor('the SMS', async () => {
      const messages = await smsMessagesTo(harness.sim, phone);
      return messages.length > 0 ? messages : undefined;
    });
    expect((await client.patch(LOYALTY, { phone, code: codeFrom(sms!.text) })).status).toBe(200);

    const verified = await waitFor('the verified phone at the provider', async () => {
      const found = await provider.customer(userId);
      return found?.current.phone === phone ? found : undefined;
    });
    expect(verified.current.first_name).toBe('Unverified');
  });

  test('when sync_all_updates is turned on through the admin API, then plain profile updates reach the provider too', async () => {
    const { client } = await harness.signUp();
    const plain = await client.patch('/users/profile/', { last_name: 'NotSynced' });
    const userId = plain.body.id as number;
    // A later with-loyalty update of another user proves the worker has read past the plain one.
    const witness = await harness.signUp();
    const witnessId = (await witness.client.patch(LOYALTY, { first_name: 'Witness' })).body.id as number;
    await waitFor('the witness update', async () => (await provider.customer(witnessId)) !== undefined);
    expect(await provider.customer(userId)).toBeUndefined();

    await harness.setSetting(
      'CUSTOMER_LOYALTY_CARD_SERVICE',
      loyaltyCardSetting(harness.sim.url, { syncAllUpdates: true }),
    );
    await waitFor('the worker to read the new setting', async () => {
      await client.patch('/users/profile/', { last_name: `Synced${Date.now()}` });
      return (await provider.customer(userId)) !== undefined;
    });

    const customer = (await provider.customer(userId))!;
    expect(String(customer.current.last_name)).toMatch(/^Synced\d+$/);
  });
});
