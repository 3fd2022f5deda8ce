import mongoose from 'mongoose';
import { mongoClientOptions } from '../src/mongo.ts';

// jest runs this file in the same CommonJS sandbox where the driver's own dynamic import('os') fails.
describe('mongoClientOptions', () => {
  test('when a client is built with them inside jest, then its hello carries driver, platform and os metadata', async () => {
    const client = new mongoose.mongo.MongoClient('mongodb://127.0.0.1:1/', mongoClientOptions());
    try {
      const metadata = await (client.options as unknown as { metadata: Promise<Record<string, unknown>> })
        .metadata;

      expect(metadata).toMatchObject({
        driver: { name: expect.stringContaining('nodejs'), version: expect.any(String) },
        platform: expect.stringContaining('Node.js'),
        os: { type: expect.any(String), name: expect.any(String), architecture: expect.any(String) },
      });
    } finally {
      await client.close();
    }
  });
});
