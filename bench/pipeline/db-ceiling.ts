/**
 * The database's own write ceiling, as a reference for the end-to-end figures: the cheapest write
 * profile-api could make (a one-field $set on one document found by its `_id`), at 20 concurrent
 * operations, on copies of the seeded users in a scratch collection. Every committed PATCH costs
 * at least two such writes (the commit, then removing the published event from the outbox), so
 * half this rate bounds the PATCH/s any design with an outbox in the user's document can reach.
 */
import type mongoose from 'mongoose';

type Db = mongoose.mongo.Db;

export interface WriteCeiling {
  writesPerSec: number;
  documents: number;
  readsPerSec: number;
}

const SCRATCH = 'bench_write_ceiling';
const LANES = 20;

async function ratePerSec(seconds: number, operation: (i: number) => Promise<unknown>): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (performance.now() < until) {
        await operation(next++);
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

export async function measureWriteCeiling(db: Db, seconds: number): Promise<WriteCeiling> {
  const users = await db.collection<{ _id: string }>('users').find({}).toArray();
  if (users.length === 0) throw new Error('no seeded users to copy');
  const scratch = db.collection<{ _id: string }>(SCRATCH);
  await scratch.insertMany(users);
  try {
    const idOf = (i: number) => users[i % users.length]!._id;
    const writesPerSec = await ratePerSec(seconds, (i) =>
      scratch.updateOne({ _id: idOf(i) }, { $set: { first_name: `ceiling-${i}` } }),
    );
    const readsPerSec = await ratePerSec(seconds, (i) => scratch.findOne({ _id: idOf(i) }));
    return { writesPerSec, documents: users.length, readsPerSec };
  } finally {
    await scratch.drop().catch(() => undefined);
  }
}
