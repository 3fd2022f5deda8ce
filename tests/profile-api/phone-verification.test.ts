import { Redis } from 'ioredis';
import { waitFor } from '@app/testkit';
import { expectContractBody } from '../support/contract.ts';
import {
  codeFrom,
  metricValue,
  smsMessagesTo,
  startProfileApiHarness,
  type ProfileApiHarness,
} from '../support/profile-api.ts';
import type { ApiClient } from '../support/api-client.ts';

const LOYALTY = '/users/profile-with-loyalty/';
const PROFILE = '/users/profile/';

describe('profile-api: phone verification on the with-loyalty endpoints', () => {
  let harness: ProfileApiHarness;
  let phoneCounter = 0;

  beforeAll(async () => {
    harness = await startProfileApiHarness('phone');
  });

  afterAll(async () => {
    await harness.stop();
  });

  /** A distinct valid Turkish mobile number per test. */
  function nextPhone(): string {
    phoneCounter += 1;
    return `+90532${String(1_000_000 + phoneCounter * 7919).slice(-7)}`;
  }

  async function latestCode(phone: string, count = 1): Promise<string> {
    const messages = await waitFor(`${count} SMS to ${phone}`, async () => {
      const received = await smsMessagesTo(harness.sim, phone);
      return received.length >= count ? received : undefined;
    });
    return codeFrom(messages[messages.length - 1]!.text);
  }

  async function requestCode(client: ApiClient, phone: string, extra: Record<string, unknown> = {}) {
    const response = await client.patch(LOYALTY, { phone, ...extra });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ detail: 'Verification code sent.' });
    return response;
  }

  test('when the phone changes without a code, then 202, an SMS goes out and nothing is applied yet', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();

    await requestCode(client, phone, { first_name: 'Pending' });

    const code = await latestCode(phone);
    expect(code).toMatch(/^\d{6}$/);
    const profile = (await client.get(LOYALTY)).body;
    expect(profile).toMatchObject({ phone: null, first_name: 'Ada', code: null, resend: false });
  });

  test('when the right code follows, then the whole change applies once and the code cannot be replayed', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();
    await requestCode(client, phone, { first_name: 'Verified' });
    const code = await latestCode(phone);

    const confirmed = await client.patch(LOYALTY, { phone, code });

    expect(confirmed.status).toBe(200);
    expectContractBody(LOYALTY, 'patch', 200, confirmed.body);
    expect(confirmed.body).toMatchObject({ phone, first_name: 'Verified', code: null, resend: false });

    const replay = await client.patch(LOYALTY, { phone: nextPhone(), code });
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ code: ['The verification code has expired. Request a new one.'] });
    expect((await client.get(LOYALTY)).body.phone).toBe(phone);
  });

  test('when the code is sent alone, then the pending change it confirms applies', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();
    await requestCode(client, phone, { last_name: 'Alone' });

    const confirmed = await client.patch(LOYALTY, { code: await latestCode(phone) });

    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ phone, last_name: 'Alone' });
  });

  test('when a wrong code is given, then 400 on code and the right one still works', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();
    await requestCode(client, phone);
    const code = await latestCode(phone);
    const wrong = code === '000000' ? '111111' : '000000';

    const rejected = await client.patch(LOYALTY, { phone, code: wrong });

    expect(rejected.status).toBe(400);
    expect(rejected.body).toEqual({ code: ['Invalid verification code.'] });
    expect((await client.patch(LOYALTY, { phone, code })).status).toBe(200);
  });

  test('when five wrong codes are given, then the pending change is dropped', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();
    await requestCode(client, phone);
    const code = await latestCode(phone);
    const wrong = code === '000000' ? '111111' : '000000';

    const answers = [];
    for (let attempt = 0; attempt < 5; attempt += 1)
      answers.push((await client.patch(LOYALTY, { code: wrong })).body);

    expect(answers.slice(0, 4)).toEqual(Array(4).fill({ code: ['Invalid verification code.'] }));
    expect(answers[4]).toEqual({
      code: ['Too many invalid codes. The pending change was discarded; request a new code.'],
    });
    const afterwards = await client.patch(LOYALTY, { phone, code });
    expect(afterwards.status).toBe(400);
    expect(afterwards.body).toEqual({ code: ['The verification code has expired. Request a new one.'] });
    expect((await client.get(LOYALTY)).body.phone).toBeNull();
  });

  test('when resend is asked within 60 s, then 429 with Retry-After; the code in force still works', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();
    await requestCode(client, phone);
    const code = await latestCode(phone);

    const resend = await client.patch(LOYALTY, { resend: true });

    expect(resend.status).toBe(429);
    expect(Number(resend.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(resend.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await smsMessagesTo(harness.sim, phone)).toHaveLength(1);
    expect((await client.patch(LOYALTY, { code })).status).toBe(200);
  });

  test('when resend is asked after the interval, then a new code replaces the old one', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();
    await requestCode(client, phone);
    const first = await latestCode(phone);
    const me = (await client.get(LOYALTY)).body.id as number;
    // The interval is enforced by a Redis key; ending it early stands in for waiting 60 s.
    const redis = new Redis(harness.api.config.redisUrl);
    await redis.del(`phone-verification:${me}:sent`);
    await redis.quit();

    const resend = await client.patch(LOYALTY, { resend: true });

    expect(resend.status).toBe(202);
    const second = await latestCode(phone, 2);
    if (second !== first) {
      expect((await client.patch(LOYALTY, { code: first })).status).toBe(400);
    }
    expect((await client.patch(LOYALTY, { code: second })).status).toBe(200);
  });

  test('when the code expires, then 400 and nothing is applied', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();
    await requestCode(client, phone);
    const code = await latestCode(phone);
    const me = (await client.get(LOYALTY)).body.id as number;
    const redis = new Redis(harness.api.config.redisUrl);
    await redis.pexpire(`phone-verification:${me}`, 1);
    await waitFor(
      'the pending change to expire',
      async () => (await redis.exists(`phone-verification:${me}`)) === 0,
    );
    await redis.quit();

    const response = await client.patch(LOYALTY, { phone, code });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: ['The verification code has expired. Request a new one.'] });
    expect((await client.get(LOYALTY)).body.phone).toBeNull();
  });

  test('when SMS_OTP_EXPIRE_TIME is set, then the pending change lives that long', async () => {
    await harness.setSetting('SMS_OTP_EXPIRE_TIME', 45);
    try {
      const { client } = await harness.signUp();
      await requestCode(client, nextPhone());
      const me = (await client.get(LOYALTY)).body.id as number;
      const redis = new Redis(harness.api.config.redisUrl);
      const ttl = await redis.ttl(`phone-verification:${me}`);
      await redis.quit();

      expect(ttl).toBeGreaterThan(40);
      expect(ttl).toBeLessThanOrEqual(45);
    } finally {
      await harness.setSetting('SMS_OTP_EXPIRE_TIME', 180);
    }
  });

  test('when a code is sent, then it is only in the SMS: not in the answer, and Redis holds its HMAC', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();
    const response = await requestCode(client, phone);
    const code = await latestCode(phone);
    const me = (await client.get(LOYALTY)).body.id as number;
    const redis = new Redis(harness.api.config.redisUrl);
    const stored = await redis.hgetall(`phone-verification:${me}`);
    await redis.quit();

    expect(JSON.stringify(response.body)).not.toContain(code);
    expect(JSON.stringify(stored)).not.toContain(`"${code}"`);
    expect(stored.codeHash).toMatch(/^[a-f0-9]{64}$/);
  });

  test('when the phone changes on /users/profile/, then it applies directly without a code', async () => {
    const { client } = await harness.signUp();
    const phone = nextPhone();

    const response = await client.patch(PROFILE, { phone });

    expect(response.status).toBe(200);
    expect(response.body.phone).toBe(phone);
    expect(await smsMessagesTo(harness.sim, phone)).toHaveLength(0);
  });

  test('when the SMS gateway is down, then 503 with Retry-After and no pending change is left', async () => {
    const { client } = await harness.signUp();
    await fetch(`${harness.sim.url}/_faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ down: true }),
    });
    try {
      const response = await client.patch(LOYALTY, { phone: nextPhone() });

      expect(response.status).toBe(503);
      expect(response.body).toEqual({ detail: 'The verification code could not be sent. Try again later.' });
      const me = (await client.get(LOYALTY)).body.id as number;
      const redis = new Redis(harness.api.config.redisUrl);
      expect(await redis.exists(`phone-verification:${me}`, `phone-verification:${me}:sent`)).toBe(0);
      await redis.quit();
    } finally {
      await fetch(`${harness.sim.url}/_faults`, { method: 'DELETE' });
    }
  });

  describe('refused requests leave the pending change and its code alone', () => {
    test('when a resend naming the pending number is refused with 429, then the code in force still confirms the change', async () => {
      const { client } = await harness.signUp();
      const phone = nextPhone();
      await requestCode(client, phone, { first_name: 'Kept' });
      const code = await latestCode(phone);

      const refused = await client.patch(LOYALTY, { phone, resend: true });

      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await smsMessagesTo(harness.sim, phone)).toHaveLength(1);
      const confirmed = await client.patch(LOYALTY, { phone, code });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toMatchObject({ phone, first_name: 'Kept' });
    });

    test('when another number is asked for within the interval and refused with 429, then the first code still works', async () => {
      const { client } = await harness.signUp();
      const phone = nextPhone();
      await requestCode(client, phone);
      const code = await latestCode(phone);
      const other = nextPhone();

      expect((await client.patch(LOYALTY, { phone: other })).status).toBe(429);

      expect(await smsMessagesTo(harness.sim, other)).toHaveLength(0);
      expect((await client.patch(LOYALTY, { code })).body).toMatchObject({ phone });
    });

    test('when the right code is refused with 400 by a required-fields rule, then the code stays in force for after the fix', async () => {
      const { client } = await harness.signUp();
      const phone = nextPhone();
      await requestCode(client, phone);
      const code = await latestCode(phone);
      await harness.setSetting('USER_REQUIRED_FIELDS', ['date_of_birth']);
      let refused;
      try {
        refused = await client.patch(LOYALTY, { code });
      } finally {
        await harness.setSetting('USER_REQUIRED_FIELDS', []);
      }

      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ date_of_birth: ['This field is required.'] });
      const confirmed = await client.patch(LOYALTY, { code });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.phone).toBe(phone);
    });
  });

  describe('removing the phone', () => {
    async function withVerifiedPhone() {
      const signedUp = await harness.signUp();
      const phone = nextPhone();
      await requestCode(signedUp.client, phone);
      const confirmed = await signedUp.client.patch(LOYALTY, { phone, code: await latestCode(phone) });
      expect(confirmed.status).toBe(200);
      return { ...signedUp, phone, id: confirmed.body.id as number };
    }

    test('when phone null is sent on the with-loyalty endpoint, then 200 removes the number at once and no SMS goes out', async () => {
      const { client, phone } = await withVerifiedPhone();

      const response = await client.patch(LOYALTY, { phone: null, last_name: 'Removed' });

      expect(response.status).toBe(200);
      expectContractBody(LOYALTY, 'patch', 200, response.body);
      expect(response.body).toMatchObject({ phone: null, last_name: 'Removed', code: null, resend: false });
      expect((await client.get(LOYALTY)).body.phone).toBeNull();
      expect(await smsMessagesTo(harness.sim, phone)).toHaveLength(1);
    });

    test('when the phone is required and null is sent, then 400 on phone, the number stays and no SMS goes out', async () => {
      const { client, phone } = await withVerifiedPhone();
      await harness.setSetting('USER_REQUIRED_FIELDS', ['phone']);
      let response;
      try {
        response = await client.patch(LOYALTY, { phone: null });
      } finally {
        await harness.setSetting('USER_REQUIRED_FIELDS', []);
      }

      expect(response.status).toBe(400);
      expect(response.body).toEqual({ phone: ['This field is required.'] });
      expect((await client.get(LOYALTY)).body.phone).toBe(phone);
      expect(await smsMessagesTo(harness.sim, phone)).toHaveLength(1);
    });
  });

  describe('whether the phone was verified', () => {
    test('when a code confirms the number, then it is stored verified; a change through /users/profile/ stores it unverified; neither answer shows it', async () => {
      const { client } = await harness.signUp();
      const phone = nextPhone();
      await requestCode(client, phone);
      const confirmed = await client.patch(LOYALTY, { phone, code: await latestCode(phone) });
      const id = String(confirmed.body.id);

      expect(confirmed.body).not.toHaveProperty('phone_verified');
      expect(await harness.storedDocument('users', id)).toMatchObject({ phone, phone_verified: true });

      const other = nextPhone();
      const plain = await client.patch(PROFILE, { phone: other });

      expect(plain.status).toBe(200);
      expect(plain.body).not.toHaveProperty('phone_verified');
      expect(await harness.storedDocument('users', id)).toMatchObject({
        phone: other,
        phone_verified: false,
      });
    });

    test('when a number given at registration is named on the with-loyalty endpoint, then repeating it is a 200 and asking for a code (resend) verifies it', async () => {
      const phone = nextPhone();
      const { client } = await harness.signUp({ phone });
      const id = String((await client.get(LOYALTY)).body.id);
      expect(await harness.storedDocument('users', id)).toMatchObject({ phone, phone_verified: false });

      const repeated = await client.patch(LOYALTY, { phone });
      expect(repeated.status).toBe(200);
      expect(await harness.storedDocument('users', id)).toMatchObject({ phone, phone_verified: false });
      await requestCode(client, phone, { resend: true });
      const confirmed = await client.patch(LOYALTY, { phone, code: await latestCode(phone) });

      expect(confirmed.status).toBe(200);
      expect(await harness.storedDocument('users', id)).toMatchObject({ phone, phone_verified: true });
    });

    test('when a client sends phone_verified, then it is ignored like any unknown field: only a code verifies a number', async () => {
      const { client } = await harness.signUp();
      const phone = nextPhone();

      const response = await client.patch(PROFILE, { phone, phone_verified: true });

      expect(response.status).toBe(200);
      const stored = await harness.storedDocument('users', String(response.body.id));
      expect(stored).toMatchObject({ phone, phone_verified: false });
    });
  });

  describe('SMS abuse limits (ABUSE_LIMITS)', () => {
    const generous = {
      sms_per_number: '1000/hour',
      sms_global: '1000/min',
      login_failures_per_account: '1000/15min',
    };

    async function withLimits(limits: Partial<typeof generous>, run: () => Promise<void>): Promise<void> {
      await harness.setSetting('ABUSE_LIMITS', { ...generous, ...limits });
      try {
        await run();
      } finally {
        await harness.setSetting('ABUSE_LIMITS', generous);
      }
    }

    test('when more codes are asked for one number than sms_per_number allows, then 429 with Retry-After up to the hour, no SMS, and the refusal is counted', async () => {
      const phone = nextPhone();
      const refusals = ['profile_api_sms_refused_total', { reason: 'per-number' }] as const;
      const before = await metricValue(harness, ...refusals);

      await withLimits({ sms_per_number: '2/hour' }, async () => {
        // Three accounts, one number: no account's own resend interval is in the way.
        for (let account = 0; account < 2; account += 1)
          await requestCode((await harness.signUp()).client, phone);
        const { client } = await harness.signUp();

        const refused = await client.patch(LOYALTY, { phone });

        expect(refused.status).toBe(429);
        const retryAfter = Number(refused.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(3_000);
        expect(retryAfter).toBeLessThanOrEqual(3_600);
        expect(refused.body).toEqual({
          detail: `Request was throttled. Expected available in ${retryAfter} seconds.`,
        });
        expect(await smsMessagesTo(harness.sim, phone)).toHaveLength(2);
        expect(await metricValue(harness, ...refusals)).toBe(before + 1);
        // The limit is the number's: the same account may still have a code sent elsewhere at once.
        await requestCode(client, nextPhone());
      });
    });

    test('when the service has sent its sms_global budget for the minute, then a code to any number is refused 429 with Retry-After within the minute, and counted', async () => {
      const refusals = ['profile_api_sms_refused_total', { reason: 'global' }] as const;
      const before = await metricValue(harness, ...refusals);
      // Earlier tests of this suite already count in the current window: start a fresh one.
      const redis = new Redis(harness.api.config.redisUrl);
      await redis.del('throttle:abuse:sms_global:all');
      await redis.quit();

      await withLimits({ sms_global: '2/min' }, async () => {
        for (let account = 0; account < 2; account += 1)
          await requestCode((await harness.signUp()).client, nextPhone());
        const phone = nextPhone();

        const refused = await (await harness.signUp()).client.patch(LOYALTY, { phone });

        expect(refused.status).toBe(429);
        const retryAfter = Number(refused.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(refused.body).toEqual({
          detail: `Request was throttled. Expected available in ${retryAfter} seconds.`,
        });
        expect(await smsMessagesTo(harness.sim, phone)).toHaveLength(0);
        expect(await metricValue(harness, ...refusals)).toBe(before + 1);
      });
    });

    test('when a resend is refused for the resend interval, then that refusal is counted too', async () => {
      const refusals = ['profile_api_sms_refused_total', { reason: 'resend-interval' }] as const;
      const { client } = await harness.signUp();
      await requestCode(client, nextPhone());
      const before = await metricValue(harness, ...refusals);

      expect((await client.patch(LOYALTY, { resend: true })).status).toBe(429);

      expect(await metricValue(harness, ...refusals)).toBe(before + 1);
    });
  });
});
