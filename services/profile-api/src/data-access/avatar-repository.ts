import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import type { Avatars, StoredAvatar } from '../domain/ports.ts';

const { Binary } = mongoose.mongo;
type Binary = InstanceType<typeof Binary>;

interface AvatarDocument {
  _id: string;
  content_type: string;
  data: Binary;
  created_at: Date;
}

export const AVATARS_COLLECTION = 'avatars';

/**
 * Avatars live in the database, addressed by the hash of their bytes, so any replica serves
 * them and a URL never changes meaning. Saving is idempotent; the user document only points here.
 */
export class AvatarRepository implements Avatars {
  private readonly avatars;

  constructor(connection: Connection) {
    this.avatars = connection.collection<AvatarDocument>(AVATARS_COLLECTION);
  }

  async save(data: Buffer, contentType: string): Promise<string> {
    const hash = createHash('sha256').update(data).digest('hex');
    await this.avatars.updateOne(
      { _id: hash },
      { $setOnInsert: { content_type: contentType, data: new Binary(data), created_at: new Date() } },
      { upsert: true },
    );
    return hash;
  }

  async find(hash: string): Promise<StoredAvatar | null> {
    const document = await this.avatars.findOne({ _id: hash });
    if (!document) return null;
    return { hash, contentType: document.content_type, data: Buffer.from(document.data.buffer) };
  }
}
