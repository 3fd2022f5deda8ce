/**
 * The floor: the least a server can do for GET and PATCH /users/profile/ against the same Redis and
 * MongoDB with the same drivers as profile-api. Plain node:http, the raw MongoDB driver (reached
 * through mongoose's connection), ioredis with the same options; no framework, validation, or logging.
 *
 * GET:   session from Redis (cookie `sessionid`) → user by id from MongoDB → JSON profile.
 * PATCH: the same session read → X-CSRFToken compare → findOneAndUpdate ($set first_name, $inc version).
 *
 * Run by bench/http/run.ts in a child process: PORT, MONGO_URL and REDIS_URL come from the environment.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { mongoClientOptions } from '@app/datastores';

interface Session {
  userId: number;
  csrfToken: string;
}

interface UserDocument {
  _id: string;
  email: string;
  first_name: string;
  last_name: string;
  email_allowed: boolean;
  sms_allowed: boolean;
  whatsapp_allowed: boolean;
  call_allowed: boolean | null;
  phone: string | null;
  date_of_birth: string | null;
  gender: string | null;
  language_code: string;
  attributes: Record<string, unknown>;
  avatar: { hash: string; content_type: string } | null;
  date_joined: Date;
  version: number;
}

const { PORT, MONGO_URL, REDIS_URL } = process.env;
if (!PORT || !MONGO_URL || !REDIS_URL) throw new Error('floor-server needs PORT, MONGO_URL and REDIS_URL');
const HOST = process.env.HOST ?? '127.0.0.1';
const PROFILE_PATH = '/users/profile/';
/** What profile-api's repository asks for (it reads password_hash, then leaves it out of the reply). */
const PROJECTION = { outbox: 0, email_normalized: 0 } as const;
const GENDERS = ['male', 'female'];

const redis = new Redis(REDIS_URL, {
  connectionName: 'bench-floor',
  maxRetriesPerRequest: 3,
  enableAutoPipelining: true,
});
const connection = mongoose.createConnection(MONGO_URL, mongoClientOptions({ maxPoolSize: 50 }));
await connection.asPromise();
if (!connection.db) throw new Error('floor-server: no database after connecting');
const users = connection.db.collection<UserDocument>('users');

function sessionIdOf(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const pair = part.trim();
    if (pair.startsWith('sessionid=')) return pair.slice('sessionid='.length) || undefined;
  }
  return undefined;
}

async function sessionOf(req: IncomingMessage): Promise<Session | null> {
  const sessionId = sessionIdOf(req);
  if (!sessionId) return null;
  const raw = await redis.get(`session:${sessionId}`);
  return raw ? (JSON.parse(raw) as Session) : null;
}

function profileOf(user: UserDocument, baseUrl: string) {
  const avatar = user.avatar
    ? `${baseUrl}/media/avatars/${user._id}/${user.avatar.hash}.${user.avatar.content_type.split('/')[1]}`
    : null;
  return {
    id: Number(user._id),
    email: user.email,
    first_name: user.first_name,
    last_name: user.last_name,
    email_allowed: user.email_allowed,
    sms_allowed: user.sms_allowed,
    whatsapp_allowed: user.whatsapp_allowed,
    call_allowed: user.call_allowed,
    phone: user.phone,
    date_of_birth: user.date_of_birth,
    gender: user.gender,
    language_code: user.language_code,
    attributes: user.attributes,
    date_joined: user.date_joined.toISOString(),
    avatar,
    genders: GENDERS,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = req.url?.split('?')[0];
  if (path === '/healthz') return send(res, 200, { status: 'ok' });
  if (path !== PROFILE_PATH) return send(res, 404, { detail: 'Not found.' });
  const baseUrl = `http://${req.headers.host}`;

  if (req.method === 'GET') {
    const session = await sessionOf(req);
    if (!session) return send(res, 401, { detail: 'Authentication credentials were not provided.' });
    const user = await users.findOne({ _id: String(session.userId) }, { projection: PROJECTION });
    if (!user) return send(res, 401, { detail: 'Authentication credentials were not provided.' });
    return send(res, 200, profileOf(user, baseUrl));
  }

  if (req.method === 'PATCH') {
    const session = await sessionOf(req);
    if (!session) return send(res, 401, { detail: 'Authentication credentials were not provided.' });
    const given = req.headers['x-csrftoken'];
    if (typeof given !== 'string' || !sameToken(given, session.csrfToken)) {
      return send(res, 403, { detail: 'CSRF Failed: CSRF token incorrect.' });
    }
    const { first_name: firstName } = JSON.parse(await readBody(req)) as { first_name: string };
    // The whole document comes back (no projection); profileOf picks the contract's fields.
    const user = await users.findOneAndUpdate(
      { _id: String(session.userId) },
      { $set: { first_name: firstName }, $inc: { version: 1 } },
      { returnDocument: 'after' },
    );
    if (!user) return send(res, 401, { detail: 'Authentication credentials were not provided.' });
    return send(res, 200, profileOf(user, baseUrl));
  }

  return send(res, 405, { detail: `Method "${req.method}" not allowed.` });
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    process.stderr.write(`floor-server: ${String(error)}\n`);
    if (!res.headersSent) send(res, 500, { detail: 'A server error occurred.' });
    else res.destroy();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(PORT), HOST, () => {
  process.stdout.write(`${JSON.stringify({ msg: 'floor listening', port: Number(PORT) })}\n`);
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  await Promise.allSettled([redis.quit(), connection.close()]);
  process.exit(0);
}
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
