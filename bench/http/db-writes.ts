/**
 * What the database's CPU costs per statement of a PATCH, measured on the database alone (no
 * server, no HTTP): `node --conditions=source bench/http/db-writes.ts` (MONGO_URL, or a container of
 * its own through @app/testkit). For each way of writing, WORKERS loops each pick the next user
 * and run that way's statements for SECONDS; the database container's CPU per PATCH is printed.
 *
 * - floor:           what the floor server does (one findOneAndUpdate, $set + $inc).
 * - commit+remove:   profile-api's commit ($set, $push of an event, $min outbox_since) and then its
 *                    removal (the one-statement $pull that empties the outbox and drops outbox_since).
 * - commit+remove/u: the same removal as an updateOne (no document returned).
 * - commit+bulk:     the removals of every worker gathered while one is in flight and written in
 *                    one unordered bulkWrite (one round trip for all of them).
 * - commit+bulk/2:     the same with a second update per removal in an ordered bulkWrite, for an
 *                    outbox that grew meanwhile (the design profile-api did not take: that update
 *                    costs the database about as much when it matches nothing).
 * - commit+remove/no-since: commit+remove/u without touching outbox_since (its index's price).
 * - commit-only:     the commit with the outbox kept at one entry ($slice), no removal: the commit's
 *                    own price.
 */
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { mongoClientOptions } from '@app/datastores';
import { startMongo } from '@app/testkit';
import { containerCpuMeter } from './processes.ts';

const USERS = Number(process.env.BENCH_USERS ?? 1000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 30);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

/** The statements used here, loosely typed: the values are built below, the driver's types add nothing. */
interface Users {
  createIndex(keys: object, options?: object): Promise<unknown>;
  insertMany(documents: object[]): Promise<unknown>;
  findOneAndUpdate(filter: object, update: object, options: object): Promise<object | null>;
  updateOne(filter: object, update: object): Promise<unknown>;
  updateMany(filter: object, update: object): Promise<unknown>;
  bulkWrite(operations: object[], options: object): Promise<unknown>;
}

// No reaper container (the offline machine has no image for it); the container is stopped below.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
const container = process.env.MONGO_URL ? undefined : await startMongo();
const url = process.env.MONGO_URL ?? container!.url;
const connection = mongoose.createConnection(url, {
  ...mongoClientOptions({ maxPoolSize: 50 }),
  dbName: `bench_db_writes_${Date.now()}`,
});
await connection.asPromise();
const users = connection.db!.collection('users') as unknown as Users;
await users.createIndex({ outbox_since: 1 }, { sparse: true });
await users.createIndex({ email_normalized: 1 }, { unique: true });
await users.createIndex({ phone: 1 });
const port = Number(new URL(url.replace('mongodb://', 'http://')).port);
const cpu = containerCpuMeter(port);
if (!cpu) throw new Error('no CPU meter for the database container (needs a local engine, as root)');

function profile(id: number, version: number) {
  return {
    id,
    email: `user${id}@example.com`,
    first_name: 'Bench',
    last_name: 'User',
    email_allowed: true,
    sms_allowed: false,
    whatsapp_allowed: false,
    call_allowed: null,
    phone: null,
    phone_verified: false,
    date_of_birth: null,
    gender: null,
    language_code: 'en',
    attributes: {},
    avatar: null,
    date_joined: new Date(0).toISOString(),
    version,
  };
}

function event(id: number, version: number) {
  return {
    event_id: randomUUID(),
    type: 'ProfileUpdated',
    schema_version: 1,
    occurred_at: new Date().toISOString(),
    user_id: id,
    profile_version: version,
    changed_fields: ['first_name'],
    profile: profile(id, version),
    source: 'profile',
  };
}

await users.insertMany(
  Array.from({ length: USERS }, (_, index) => {
    const { id: _omit, ...fields } = profile(index + 1, 1);
    return {
      _id: String(index + 1),
      ...fields,
      email_normalized: fields.email,
      password_hash: 'x'.repeat(100),
      date_joined: new Date(0),
      outbox: [],
    };
  }),
);

const versions = new Map<number, number>();
let nextUser = 0;
const takeUser = () => (nextUser++ % USERS) + 1;

async function commit(id: number, keepOne = false, since = true) {
  const version = versions.get(id) ?? 1;
  const entry = event(id, version + 1);
  const push = keepOne ? { $each: [entry], $slice: -1 } : entry;
  const updated = await users.findOneAndUpdate(
    { _id: String(id), version, 'outbox.99': { $exists: false } },
    {
      $set: { first_name: `n${version}`, version: version + 1 },
      $push: { outbox: push },
      ...(since && { $min: { outbox_since: new Date(entry.occurred_at) } }),
    },
    { returnDocument: 'after', projection: { outbox_since: 0, email_normalized: 0, password_hash: 0 } },
  );
  if (!updated) throw new Error(`commit of ${id} matched nothing`);
  versions.set(id, version + 1);
  return [entry.event_id];
}

const removal = (id: number, eventIds: string[]) => ({
  filter: { _id: String(id), outbox: { $size: eventIds.length }, 'outbox.event_id': { $all: eventIds } },
  update: {
    $pull: { outbox: { event_id: { $in: eventIds } } },
    $inc: { outbox_removals: 1 },
    $unset: { outbox_since: 1 },
  },
});

/** Removals of all workers, group-committed: while one bulkWrite is in flight the next ones gather. */
const pending: { id: number; eventIds: string[]; done: () => void }[] = [];
let writing = false;
let pairs = false;
async function drainRemovals() {
  writing = true;
  while (pending.length > 0) {
    const batch = pending.splice(0);
    await users.bulkWrite(
      batch.flatMap(({ id, eventIds }) => {
        const single = { updateOne: removal(id, eventIds) };
        if (!pairs) return [single];
        // As profile-api writes them: the emptying update, then the one for an outbox that grew.
        const { filter, update } = removal(id, eventIds);
        const { $unset: _unset, ...pull } = update;
        const { outbox: _size, ...grew } = filter;
        return [single, { updateOne: { filter: grew, update: pull } }];
      }),
      { ordered: pairs },
    );
    for (const item of batch) item.done();
  }
  writing = false;
}

/** A commit, then its removal group-committed with the other workers' (`withPairs`: two updates each). */
function commitThenGroupedRemoval(withPairs: boolean) {
  return async (id: number) => {
    pairs = withPairs;
    const eventIds = await commit(id);
    await new Promise<void>((done) => {
      pending.push({ id, eventIds, done });
      if (!writing) void drainRemovals();
    });
  };
}

const ways: Record<string, (id: number) => Promise<void>> = {
  floor: async (id) => {
    await users.findOneAndUpdate(
      { _id: String(id) },
      { $set: { first_name: randomUUID() }, $inc: { floor_version: 1 } },
      { returnDocument: 'after' },
    );
  },
  'commit+remove': async (id) => {
    const ids = await commit(id);
    const { filter, update } = removal(id, ids);
    await users.findOneAndUpdate(filter, update, {
      returnDocument: 'after',
      projection: { _id: 0, outbox_removals: 1 },
    });
  },
  'commit+remove/u': async (id) => {
    const ids = await commit(id);
    const { filter, update } = removal(id, ids);
    await users.updateOne(filter, update);
  },
  'commit+bulk': commitThenGroupedRemoval(false),
  'commit+bulk/2': commitThenGroupedRemoval(true),
  'commit+remove/no-since': async (id) => {
    const ids = await commit(id, false, false);
    const { filter, update } = removal(id, ids);
    const { $unset: _unset, ...rest } = update as Record<string, unknown>;
    await users.updateOne(filter, rest);
  },
  'commit-only': async (id) => {
    await commit(id, true);
  },
};

async function measure(name: string): Promise<number> {
  const run = ways[name]!;
  const busy = new Set<number>();
  const until = Date.now() + SECONDS * 1000;
  let done = 0;
  const before = cpu!()!;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (Date.now() < until) {
        let id = takeUser();
        while (busy.has(id)) id = takeUser();
        busy.add(id);
        await run(id);
        busy.delete(id);
        done += 1;
      }
    }),
  );
  const ms = cpu!()! - before;
  // Leave the outboxes empty for the next way.
  await users.updateMany({}, { $set: { outbox: [] }, $unset: { outbox_since: 1 } });
  process.stdout.write(
    `${name.padEnd(16)} ${String(Math.round(done / SECONDS)).padStart(6)} PATCH/s  db cpu ${(ms / done).toFixed(3)} ms/PATCH\n`,
  );
  return ms / done;
}

try {
  const names = (process.env.BENCH_WAYS ?? Object.keys(ways).join(',')).split(',');
  for (let round = 1; round <= ROUNDS; round += 1) {
    process.stdout.write(`round ${round} (${WORKERS} workers, ${USERS} users, ${SECONDS} s each)\n`);
    for (const name of names) await measure(name);
  }
} finally {
  await connection.dropDatabase().catch(() => undefined);
  await connection.close();
  await container?.stop();
}
