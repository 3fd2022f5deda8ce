import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { mongo } from 'mongoose';

/** One logged-in user the load rotates through. */
export interface BenchSession {
  userId: number;
  email: string;
  sessionId: string;
  csrfToken: string;
  /** The Cookie header a browser would send. */
  cookie: string;
}

export interface SeedOptions {
  apiUrl: string;
  db: mongo.Db;
  redis: Redis;
  /** Users in all. */
  total: number;
  /** Of those, registered and logged in through the API (scrypt twice each, so keep it small). */
  viaApi: number;
  /** Distinguishes this run's e-mail addresses. */
  runTag: string;
  /** Expiry of the sessions written directly, so leftovers in a shared Redis go away by themselves. */
  sessionTtlSeconds: number;
}

const PASSWORD = 'correct horse battery staple';
const API_CONCURRENCY = 4;
const INSERT_BATCH = 250;

/** profile-api's token format (auth-use-case newToken): 32 random bytes, base64url. */
const newToken = () => randomBytes(32).toString('base64url');

function cookieValue(setCookies: string[], name: string): string {
  for (const line of setCookies) {
    const [pair] = line.split(';');
    const at = pair!.indexOf('=');
    if (pair!.slice(0, at).trim() === name) return decodeURIComponent(pair!.slice(at + 1));
  }
  throw new Error(`login answered without a ${name} cookie`);
}

async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
}

async function registerAndLogIn(apiUrl: string, redis: Redis, email: string): Promise<BenchSession> {
  const registration = await postJson(`${apiUrl}/users/registration/`, {
    email,
    password: PASSWORD,
    first_name: 'Bench',
    last_name: 'User',
    confirm: true,
  });
  if (registration.status !== 201) {
    throw new Error(`registration of ${email}: ${registration.status} ${await registration.text()}`);
  }
  await registration.arrayBuffer().catch(() => undefined);
  const login = await postJson(`${apiUrl}/users/login/`, { email, password: PASSWORD });
  if (login.status !== 200) throw new Error(`login of ${email}: ${login.status} ${await login.text()}`);
  await login.arrayBuffer();
  const setCookies = login.headers.getSetCookie();
  const sessionId = cookieValue(setCookies, 'sessionid');
  const csrfToken = cookieValue(setCookies, 'csrftoken');
  const raw = await redis.get(`session:${sessionId}`);
  if (!raw) throw new Error(`no session:${sessionId.slice(0, 6)}… in Redis after login`);
  const { userId } = JSON.parse(raw) as { userId: number };
  return { userId, email, sessionId, csrfToken, cookie: `sessionid=${sessionId}; csrftoken=${csrfToken}` };
}

/**
 * Registers and logs in `viaApi` users through the API, then inserts the rest directly: user
 * documents cloned from a registered one (so every field, type and the password hash match what
 * profile-api writes), ids taken from profile-api's own counter, and sessions in Redis in
 * SessionStore's shape: `session:<id>` → {"userId","csrfToken","createdAt"}.
 */
export async function seedUsers(options: SeedOptions): Promise<BenchSession[]> {
  const { apiUrl, db, redis, total, viaApi, runTag } = options;
  const sessions: BenchSession[] = [];
  for (let start = 0; start < viaApi; start += API_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(API_CONCURRENCY, viaApi - start) }, (_, i) =>
      registerAndLogIn(apiUrl, redis, `bench.api${start + i}.${runTag}@example.com`),
    );
    sessions.push(...(await Promise.all(batch)));
  }

  const direct = total - viaApi;
  if (direct === 0) return sessions;
  const usersCollection = db.collection<{ _id: string }>('users');
  const template = await usersCollection.findOne({ _id: String(sessions[0]!.userId) });
  if (!template) throw new Error('the user registered through the API is not in MongoDB');

  const counter = await db
    .collection<{ _id: string; seq: number }>('counters')
    .findOneAndUpdate({ _id: 'users' }, { $inc: { seq: direct } }, { returnDocument: 'after' });
  if (!counter) throw new Error('profile-api has no users counter yet');
  const firstId = counter.seq - direct + 1;

  const now = new Date();
  const createdAt = now.toISOString();
  const documents = [];
  const pipeline = redis.pipeline();
  for (let i = 0; i < direct; i += 1) {
    const id = firstId + i;
    const email = `bench.${id}.${runTag}@example.com`;
    documents.push({
      ...template,
      _id: String(id),
      email,
      email_normalized: email.toLowerCase(),
      first_name: 'Bench',
      last_name: `User${id}`,
      date_joined: now,
      version: 1,
      outbox: [],
    });
    const sessionId = newToken();
    const csrfToken = newToken();
    pipeline.set(
      `session:${sessionId}`,
      JSON.stringify({ userId: id, csrfToken, createdAt }),
      'EX',
      options.sessionTtlSeconds,
    );
    sessions.push({
      userId: id,
      email,
      sessionId,
      csrfToken,
      cookie: `sessionid=${sessionId}; csrftoken=${csrfToken}`,
    });
  }
  for (let start = 0; start < documents.length; start += INSERT_BATCH) {
    await usersCollection.insertMany(documents.slice(start, start + INSERT_BATCH), { ordered: true });
  }
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([error]) => error);
  if (failed) throw new Error(`writing sessions to Redis failed: ${String(failed[0])}`);
  return sessions;
}
