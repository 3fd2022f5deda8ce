import { Redis } from 'ioredis';
import { expectContractBody } from '../support/contract.ts';
import { metricValue, startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

describe('profile-api: registration, login, logout, CSRF', () => {
  let harness: ProfileApiHarness;

  beforeAll(async () => {
    harness = await startProfileApiHarness('auth');
  });

  afterAll(async () => {
    await harness.stop();
  });

  const credentials = { email: 'Grace.Hopper@Example.com', password: 'a long enough secret' };

  test('when a visitor registers, then 201 carries the new profile in the contract shape', async () => {
    const client = harness.client();

    const response = await client.post('/users/registration/', {
      ...credentials,
      first_name: 'Grace',
      last_name: 'Hopper',
      confirm: true,
      sms_allowed: true,
    });

    expect(response.status).toBe(201);
    expectContractBody('/users/profile/', 'get', 200, response.body);
    expect(response.body).toMatchObject({
      email: credentials.email,
      first_name: 'Grace',
      sms_allowed: true,
      phone: null,
      genders: ['male', 'female'],
    });
    expect(response.body).not.toHaveProperty('password');
    expect(response.body).not.toHaveProperty('password_hash');
  });

  test('when the email is taken in another letter case, then 400 names the email field', async () => {
    const response = await harness.client().post('/users/registration/', {
      ...credentials,
      email: credentials.email.toUpperCase(),
      first_name: 'G',
      last_name: 'H',
      confirm: true,
    });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ email: ['A user is already registered with this e-mail address.'] });
  });

  test('when registration lacks fields or confirm, then 400 lists each field', async () => {
    const response = await harness
      .client()
      .post('/users/registration/', { email: 'not-an-email', confirm: false });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      email: ['Enter a valid email address.'],
      password: ['This field is required.'],
      first_name: ['This field is required.'],
      last_name: ['This field is required.'],
      confirm: ['You must confirm to register.'],
    });
  });

  test('when a user logs in, then a key and HttpOnly SameSite=Lax session and CSRF cookies come back', async () => {
    const client = harness.client();

    const response = await client.post('/users/login/', credentials);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ key: client.cookie('sessionid'), redirect_url: null });
    const cookies = response.headers.getSetCookie();
    const session = cookies.find((cookie) => cookie.startsWith('sessionid='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).not.toMatch(/Secure/i);
    expect(Buffer.from(client.cookie('sessionid')!, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(cookies.find((cookie) => cookie.startsWith('csrftoken='))).not.toMatch(/HttpOnly/i);
  });

  test('when the same user logs in twice, then each login issues a new session id and ends the old one', async () => {
    const client = harness.client();
    await client.post('/users/login/', credentials);
    const first = client.cookie('sessionid')!;

    await client.post('/users/login/', credentials);
    const second = client.cookie('sessionid')!;

    expect(second).not.toBe(first);
    const stale = harness.client();
    stale.setCookie('sessionid', first);
    expect((await stale.get('/users/profile/')).status).toBe(401);
  });

  test('when the password is wrong or the email unknown, then 400 non_field_errors', async () => {
    for (const attempt of [
      { ...credentials, password: 'wrong password' },
      { email: 'nobody@example.com', password: 'whatever123' },
    ]) {
      const response = await harness.client().post('/users/login/', attempt);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ non_field_errors: ['Unable to log in with provided credentials.'] });
    }
  });

  test('when no or an unknown session is sent, then the profile answers 401 with DRF detail', async () => {
    const anonymous = harness.client();
    const forged = harness.client();
    forged.setCookie('sessionid', 'forged-session-id');

    for (const client of [anonymous, forged]) {
      for (const path of ['/users/profile/', '/users/profile-with-loyalty/']) {
        const response = await client.get(path);
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ detail: 'Authentication credentials were not provided.' });
      }
    }
  });

  test('when a user logs out, then the session is deleted server-side', async () => {
    const client = harness.client();
    await client.post('/users/login/', credentials);
    const sessionId = client.cookie('sessionid')!;

    const response = await client.post('/users/logout/');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ detail: 'Successfully logged out.' });
    const replay = harness.client();
    replay.setCookie('sessionid', sessionId);
    expect((await replay.get('/users/profile/')).status).toBe(401);
  });

  test('when logout comes without the CSRF header, then 403 and the session survives', async () => {
    const client = harness.client();
    await client.post('/users/login/', credentials);

    const response = await client.post('/users/logout/', undefined, { withoutCsrf: true });

    expect(response.status).toBe(403);
    expect(response.body).toEqual({ detail: 'CSRF Failed: CSRF token missing.' });
    expect((await client.get('/users/profile/')).status).toBe(200);
  });

  test('when /csrf_token/ is asked with a session, then it returns that session token', async () => {
    const client = harness.client();
    await client.post('/users/login/', credentials);

    const response = await client.get('/csrf_token/');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ csrf_token: client.cookie('csrftoken') });
    expect(String(response.body.csrf_token).length).toBeGreaterThanOrEqual(32);
  });

  test('when the body is malformed JSON or not JSON at all, then 400 or 415, never 5xx', async () => {
    const malformed = await harness
      .client()
      .post('/users/login/', undefined, { raw: { body: '{"email": ', contentType: 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(String(malformed.body.detail)).toMatch(/^JSON parse error/);

    const text = await harness
      .client()
      .post('/users/login/', undefined, { raw: { body: 'email=x', contentType: 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body).toEqual({ detail: 'Unsupported media type "text/plain" in request.' });
  });

  test('when logins from one address exceed the login rate, then 429 with Retry-After, until the rate allows', async () => {
    // Earlier logins of this suite already count in this minute's window: start a fresh one.
    const redis = new Redis(harness.api.config.redisUrl);
    await redis.del('throttle:login:127.0.0.1', 'throttle:login:::ffff:127.0.0.1');
    await redis.quit();
    await harness.setSetting('THROTTLING_SETTINGS', { login: '2/min' });
    try {
      const statuses: number[] = [];
      let last;
      for (let attempt = 0; attempt < 3; attempt += 1) {
        last = await harness.client().post('/users/login/', credentials);
        statuses.push(last.status);
      }

      expect(statuses).toEqual([200, 200, 429]);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await harness.setSetting('THROTTLING_SETTINGS', {});
    }
    expect((await harness.client().post('/users/login/', credentials)).status).toBe(200);
  });

  describe('login attempts per account (ABUSE_LIMITS)', () => {
    const generous = {
      sms_per_number: '1000/hour',
      sms_global: '1000/min',
      login_failures_per_account: '1000/15min',
    };
    let seq = 0;

    async function registered(): Promise<{ email: string; password: string }> {
      seq += 1;
      const account = { email: `locked${seq}.${Date.now()}@example.com`, password: 'the right password' };
      const response = await harness
        .client()
        .post('/users/registration/', { ...account, first_name: 'L', last_name: 'K', confirm: true });
      expect(response.status).toBe(201);
      return account;
    }

    async function attempt(email: string, password: string) {
      const started = performance.now();
      const response = await harness.client().post('/users/login/', { email, password });
      return {
        status: response.status,
        body: response.body,
        retryAfter: response.headers.get('retry-after'),
        ms: performance.now() - started,
      };
    }

    async function withAttempts(rate: string, run: () => Promise<void>): Promise<void> {
      await harness.setSetting('ABUSE_LIMITS', { ...generous, login_failures_per_account: rate });
      try {
        await run();
      } finally {
        await harness.setSetting('ABUSE_LIMITS', generous);
      }
    }

    test('when an account has used up its attempts, then 429 with Retry-After even for the right password; an unknown email answers alike at the same cost', async () => {
      const known = await registered();
      const unknown = `nobody${Date.now()}@example.com`;
      const locked = 'profile_api_login_locked_total';
      const before = await metricValue(harness, locked);

      await withAttempts('3/15min', async () => {
        const knownAnswers = [];
        const unknownAnswers = [];
        for (let tries = 0; tries < 4; tries += 1) {
          knownAnswers.push(await attempt(known.email, 'a wrong password'));
          unknownAnswers.push(await attempt(unknown, 'a wrong password'));
        }
        const rightPassword = await attempt(known.email, known.password);

        for (const answers of [knownAnswers, unknownAnswers]) {
          expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 429]);
          expect(answers[0]!.body).toEqual({
            non_field_errors: ['Unable to log in with provided credentials.'],
          });
          expect(Number(answers[3]!.retryAfter)).toBeGreaterThan(800);
          expect(Number(answers[3]!.retryAfter)).toBeLessThanOrEqual(900);
          expect(answers[3]!.body).toEqual({
            detail: `Request was throttled. Expected available in ${answers[3]!.retryAfter} seconds.`,
          });
        }
        const refusalBodies = (answers: { body: unknown }[]) => answers.slice(0, 3).map((a) => a.body);
        expect(refusalBodies(unknownAnswers)).toEqual(refusalBodies(knownAnswers));
        expect(rightPassword.status).toBe(429);
        // The password hash work is done for an unknown email too (scrypt: hundreds of ms, not ~1).
        const slowest = (answers: { ms: number }[]) => Math.min(...answers.slice(0, 3).map((a) => a.ms));
        expect(slowest(unknownAnswers)).toBeGreaterThan(0.4 * slowest(knownAnswers));
      });
      expect(await metricValue(harness, locked)).toBe(before + 3);
    });

    test('when a login succeeds, then the failures before it no longer count', async () => {
      const account = await registered();

      await withAttempts('3/15min', async () => {
        const statuses = [];
        for (const password of ['wrong one', 'wrong two', account.password, 'wrong three', 'wrong four'])
          statuses.push((await attempt(account.email, password)).status);
        statuses.push((await attempt(account.email, account.password)).status);

        expect(statuses).toEqual([400, 400, 200, 400, 400, 200]);
      });
    });
  });
});

describe.each([
  ['a hop count', '1'],
  ['a list of proxy addresses and CIDR ranges', '127.0.0.0/8, ::1'],
])('profile-api behind a balancer: TRUST_PROXY as %s', (_kind, trustProxy) => {
  let harness: ProfileApiHarness;

  beforeAll(async () => {
    harness = await startProfileApiHarness('auth_proxy', { TRUST_PROXY: trustProxy });
    await harness.setSetting('THROTTLING_SETTINGS', { login: '2/min' });
  });

  afterAll(async () => {
    await harness.stop();
  });

  /** A login as the balancer forwards it: whatever the client claimed, then the address it saw. */
  const loginVia = (claimed: string, seen: string) =>
    harness
      .client()
      .post(
        '/users/login/',
        { email: 'nobody@example.com', password: 'not the password' },
        { headers: { 'x-forwarded-for': `${claimed}, ${seen}` } },
      );

  test('when a client rotates its X-Forwarded-For, then the address the balancer saw still counts against the login rate, and another client keeps its own', async () => {
    const statuses = [];
    for (let claimed = 1; claimed <= 3; claimed += 1)
      statuses.push((await loginVia(`10.9.8.${claimed}`, '203.0.113.7')).status);
    const otherClient = await loginVia('10.9.8.1', '203.0.113.8');

    expect(statuses).toEqual([400, 400, 429]);
    expect(otherClient.status).toBe(400);
  });
});
