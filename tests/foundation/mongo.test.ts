import mongoose, { Schema, type Connection } from 'mongoose';
import { mongoClientOptions } from '@app/datastores';
import { mongoUrlFor } from '../support/env.ts';

interface Account {
  email: string;
  phone_claim?: string;
  counter: number;
  items: string[];
}

const accountSchema = new Schema<Account>({
  email: { type: String, required: true, unique: true },
  phone_claim: { type: String },
  counter: { type: Number, default: 0 },
  items: { type: [String], default: [] },
});
accountSchema.index(
  { phone_claim: 1 },
  { unique: true, partialFilterExpression: { phone_claim: { $type: 'string' } } },
);

describe('MongoDB-protocol database', () => {
  let connection: Connection;
  let Accounts: mongoose.Model<Account>;

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(mongoUrlFor('foundation_mongo'), mongoClientOptions())
      .asPromise();
    Accounts = connection.model<Account>('Account', accountSchema);
    await Accounts.init();
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  test('when a second document repeats a unique key, then the database rejects it with E11000', async () => {
    await Accounts.create({ email: 'unique@example.com' });

    const duplicate = Accounts.create({ email: 'unique@example.com' });

    await expect(duplicate).rejects.toMatchObject({ code: 11000 });
    expect(await Accounts.countDocuments({ email: 'unique@example.com' })).toBe(1);
  });

  test('when a unique index refuses a write, then the error names the index key', async () => {
    await Accounts.create({ email: 'named@example.com' });

    const duplicate = await Accounts.create({ email: 'named@example.com' }).catch((error: unknown) => error);

    // profile-api tells an email clash from a phone clash by this key.
    expect(duplicate).toMatchObject({ code: 11000, keyPattern: { email: 1 } });
  });

  // The services commit without any lock: the database must apply concurrent updates of one
  // document one after another (FerretDB 1.24 did not: 6 of 50 kept).
  test('when 50 $inc + $push updates of one document run concurrently with no lock, then every update is kept', async () => {
    const { _id } = await Accounts.create({ email: 'counter@example.com' });

    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        Accounts.findOneAndUpdate({ _id }, { $inc: { counter: 1 }, $push: { items: `item-${index}` } }),
      ),
    );

    const account = await Accounts.findById(_id).lean();
    expect(account?.counter).toBe(50);
    expect(account?.items).toHaveLength(50);
    expect(new Set(account?.items).size).toBe(50);
  });

  test('when 20 writers race on one version-conditional update, then exactly one matches', async () => {
    const { _id } = await Accounts.create({ email: 'version@example.com' });

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        Accounts.findOneAndUpdate(
          { _id, counter: 0 },
          { $set: { counter: 1 }, $push: { items: `writer-${index}` } },
          { returnDocument: 'after' },
        ),
      ),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await Accounts.findById(_id).lean())?.items).toHaveLength(1);
  });

  test('when 10 documents claim one value of a unique partial index at once, then exactly one holds it and unclaimed documents never clash', async () => {
    const accounts = await Accounts.create(
      Array.from({ length: 10 }, (_, index) => ({ email: `claim${index}@example.com` })),
    );

    const claims = await Promise.allSettled(
      accounts.map(({ _id }) => Accounts.updateOne({ _id }, { $set: { phone_claim: '+905551112233' } })),
    );

    expect(claims.filter((claim) => claim.status === 'fulfilled')).toHaveLength(1);
    for (const claim of claims.filter((claim) => claim.status === 'rejected')) {
      expect(claim.reason).toMatchObject({ code: 11000 });
    }
    expect(await Accounts.countDocuments({ phone_claim: '+905551112233' })).toBe(1);
  });
});
