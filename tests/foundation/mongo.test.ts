import mongoose, { Schema, type Connection } from 'mongoose';
import { mongoUrlFor } from '../support/env.ts';

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

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoUrlFor('foundation_mongo')).asPromise();
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

  test('when 50 updates $inc and $push one document concurrently, then every update is kept', async () => {
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
});
