import { Schema, type Connection, type Model } from 'mongoose';
import type { ProfileUpdatedEvent } from '@app/events';
import type { TraceContext } from '../domain/ports.ts';
import type { User } from '../domain/user.ts';

/**
 * An outbox entry as stored: the event as published, plus the trace context of the request that
 * committed it (absent when untraced, and in entries written before tracing existed). `trace` never
 * reaches the topic's payload: the relay strips it and sends it as the record's `traceparent`.
 */
export type StoredOutboxEntry = ProfileUpdatedEvent & { trace?: TraceContext };

/**
 * The document's _id is the user's integer id as a string (stored documents have it so; the API
 * and the events carry the integer).
 */
export interface UserDocument extends Omit<User, 'id'> {
  _id: string;
  /** Lower-cased email: the unique key, so sign-ups differing only in case collide. */
  email_normalized: string;
  /**
   * The user's claim on their phone number, unique across users: set to `phone` by a change of
   * phone made while PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE is on, absent otherwise. Always either
   * absent or equal to `phone`.
   */
  phone_unique?: string;
  /** ProfileUpdated events written in the same single-document update as the change they describe. */
  outbox: StoredOutboxEntry[];
  /** When the oldest unpublished event was written; absent when the outbox is empty. */
  outbox_since?: Date;
  /** How many times published events were removed from the outbox (absent: never). */
  outbox_removals?: number;
}

export const USERS_COLLECTION = 'users';

const avatarSchema = new Schema({ hash: String, content_type: String }, { _id: false });

const userSchema = new Schema<UserDocument>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true },
    email_normalized: { type: String, required: true },
    password_hash: { type: String, required: true },
    first_name: { type: String, default: '' },
    last_name: { type: String, default: '' },
    email_allowed: { type: Boolean, default: false },
    sms_allowed: { type: Boolean, default: false },
    whatsapp_allowed: { type: Boolean, default: false },
    call_allowed: { type: Boolean, default: null },
    phone: { type: String, default: null },
    phone_unique: { type: String },
    // Absent on documents written before it existed: read as false (see toUser).
    phone_verified: { type: Boolean, default: false },
    date_of_birth: { type: String, default: null },
    gender: { type: String, default: null },
    language_code: { type: String, required: true },
    attributes: { type: Schema.Types.Mixed, default: () => ({}) },
    avatar: { type: avatarSchema, default: null },
    date_joined: { type: Date, required: true },
    version: { type: Number, required: true, default: 1 },
    outbox: { type: Schema.Types.Mixed, default: () => [] },
    outbox_since: { type: Date },
    outbox_removals: { type: Number },
  },
  { collection: USERS_COLLECTION, strict: true, versionKey: false, minimize: false },
);
userSchema.index({ email_normalized: 1 }, { unique: true });
// Partial: only claims are unique, so any number of users may show a number nobody claimed.
userSchema.index(
  { phone_unique: 1 },
  { unique: true, partialFilterExpression: { phone_unique: { $type: 'string' } } },
);
// Serves the look-up of numbers held without a claim (taken while the validator was off).
userSchema.index({ phone: 1 });
userSchema.index({ outbox_since: 1 }, { sparse: true });

export const userKey = (userId: number): string => String(userId);

export function userModel(connection: Connection): Model<UserDocument> {
  return connection.models.User ?? connection.model<UserDocument>('User', userSchema);
}
