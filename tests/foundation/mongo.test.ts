import { Redis } from 'ioredis';
import mongoose, { Schema, type Connection } from 'mongoose';
import { mongoClientOptions } from '@app/datastores';
import { KeyedLock } from '@app/service-kit';
import { mongoUrlFor, stackUrls } from '../support/env.ts';

interface Account {
  email: string;
  counter: number;
  items: string[];
}

const accountSchema = new Schema<Account>({
  email: { type: String, required: true, unique: true },
  counter: { type: Number, default: 0 },
  items: { type: [String], default: [] },
});

describe('MongoDB-protocol database', () => {
  let connection: Connection;
  let Accounts: mongoose.Model<Account>;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(stackUrls().redisUrl);
    connection = await mongoose
      .createConnection(mongoUrlFor('foundation_mongo'), mongoClientOptions())
      .asPromise();
    Accounts = connection.model<Account>('Account', accountSchema);
    await Accounts.init();
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
    await redis.quit();
  });

  test('when a second document repeats a unique key, then the database rejects it with E11000', async () => {
    await Accounts.create({ email: 'unique@example.com' });

    const duplicate = Accounts.create({ email: 'unique@example.com' });

    await expect(duplicate).rejects.toMatchObject({ code: 11000 });
    expect(await Accounts.countDocuments({ email: 'unique@example.com' })).toBe(1);
  });

  // FerretDB 1.24 runs findAndModify as a read and a separate write, so unguarded concurrent
  // updates of one document lose writes there (measured: 6 of 50 kept). The services therefore
  // serialise writers per document; this proves that combination keeps every update.
  test('when 50 $inc + $push updates of one document run concurrently under its lock, then every update is kept', async () => {
    const { _id } = await Accounts.create({ email: 'counter@example.com' });
    // Two lock instances: writers from two processes contend in Redis, not just in memory.
    const locks = [new KeyedLock(redis), new KeyedLock(redis)];

    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        locks[index % 2]!.withLock(`account:${String(_id)}`, () =>
          Accounts.findOneAndUpdate({ _id }, { $inc: { counter: 1 }, $push: { items: `item-${index}` } }),
        ),
      ),
    );

    const account = await Accounts.findById(_id).lean();
    expect(account?.counter).toBe(50);
    expect(account?.items).toHaveLength(50);
    expect(new Set(account?.items).size).toBe(50);
  });
});
