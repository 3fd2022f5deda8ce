/**
 * What profile-api's domain needs from the world, in its own terms. data-access implements these
 * (MongoDB, Redis, Kafka, HTTP); the domain never imports an adapter, a driver or a framework.
 */
import type { ProfileUpdatedEvent } from '@app/events';
import type { SettingKey, Settings } from '@app/settings';
import type { Profile, ProfileChanges, User } from './user.ts';

// ---------------------------------------------------------------------------------------------
// Users

export type NewUser = Omit<User, 'id' | 'version'>;

export type CreateUserResult = { outcome: 'created'; user: User } | { outcome: 'email-taken' };

/** One committed change: the new profile fields, the event describing them, and the phone claim. */
export interface ProfileCommit {
  userId: number;
  /** The version the change was computed from: the commit applies only if it is still current. */
  expectedVersion: number;
  /** The changed fields only, and whether the phone is verified when that changed too. */
  set: ProfileChanges & { phone_verified?: boolean };
  event: ProfileUpdatedEvent;
  /**
   * The user's claim on a phone number, which no other user may hold at the same time:
   * a number claims it (refused with `phone-taken` if another user's claim holds it), null
   * releases the user's claim, undefined leaves it as it is.
   */
  phoneClaim?: string | null;
}

export type CommitResult =
  /** `outbox`: the user's outbox as this commit left it, for the relay to publish without reading it. */
  | { outcome: 'committed'; user: Profile; outbox?: OutboxSnapshot }
  /** Another writer committed since `expectedVersion` was read (or the user is gone): re-read. */
  | { outcome: 'conflict' }
  /** Another user's claim holds the phone number. Nothing was written. */
  | { outcome: 'phone-taken' }
  /** The user's outbox already holds as many unpublished events as it may (Kafka is away). Nothing was written. */
  | { outcome: 'outbox-full' };

export interface Users {
  findById(id: number): Promise<Profile | null>;
  findByEmail(email: string): Promise<User | null>;
  /** Whether another user's profile shows this number, claimed or not. */
  isPhoneHeldByAnother(phone: string, userId: number): Promise<boolean>;
  /**
   * Up to `limit` user ids following `after` (from the start when undefined), in the store's own
   * order: paging through them visits every user that exists throughout, once.
   */
  idsAfter(after: number | undefined, limit: number): Promise<number[]>;
  /** A fresh id, and the email unique ignoring case (decided by the store, atomically). */
  create(user: NewUser): Promise<CreateUserResult>;
  /**
   * Applies the change, bumps the version and appends the event in one atomic step, only if the
   * version is still `expectedVersion` and the user's outbox is below its cap of unpublished events.
   */
  commitChange(commit: ProfileCommit): Promise<CommitResult>;
  /**
   * Replaces the password hash only if it is still `expected` (no version bump, no event: the
   * password is not profile data). Whether it was replaced.
   */
  replacePasswordHash(userId: number, expected: string, replacement: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Outbox and events

/**
 * W3C trace context (`traceparent`, `tracestate`) of the request that committed an event: kept with
 * the event in the outbox, so its publish, whenever it happens, continues that request's trace.
 */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

/** An event waiting in the outbox; `trace` is absent when the commit was not traced. */
export interface OutboxEntry {
  event: ProfileUpdatedEvent;
  trace?: TraceContext;
}

/**
 * One user's outbox at one moment: every unpublished event in commit order, and `removals`, how
 * many times published events had been removed from it by then. Only removals take events out, and
 * each one counts, so while the count is unchanged every event of the snapshot is still pending.
 */
export interface OutboxSnapshot {
  entries: OutboxEntry[];
  removals: number;
}

export interface Outbox {
  /** Users whose oldest unpublished event is older than `olderThan`, oldest first. */
  usersWithBacklog(olderThan: Date, limit: number): Promise<number[]>;
  /** One user's unpublished events, in commit order. */
  eventsOf(userId: number): Promise<OutboxSnapshot>;
  /**
   * Removes these events from the user's outbox (events appended meanwhile stay) and counts one
   * removal; resolves with the count after it. `removals`, when given, is the count the caller
   * knows the outbox to have now (it holds the user's lease): the removal may then be written
   * together with other users' in one statement.
   */
  removePublished(userId: number, eventIds: string[], removals?: number): Promise<number>;
  /** When the oldest unpublished event of any user was written; undefined when none is pending. */
  oldestPendingSince(): Promise<Date | undefined>;
}

export interface EventPublisher {
  /** Resolves once the broker answers; rejects fast when it does not. */
  connect(): Promise<void>;
  /** Sends the events in order, each continuing the trace it was committed in. */
  publish(entries: OutboxEntry[]): Promise<void>;
}

/** The code of the AppError a Lease rejects with when another holder keeps the key past the wait. */
export const LEASE_TIMEOUT = 'lease-timeout';

/** What a holder sees of a lease while it holds it. */
export interface LeaseHold {
  /**
   * The note the previous holder left when it released the lease. Undefined when it left none, or
   * when the lease lapsed or was taken some other way since: taking the lease erases the note.
   */
  readonly note: string | undefined;
  /** Leaves a note for the next holder, written when this holder releases the lease in time. */
  leave(note: string): void;
}

/**
 * Mutual exclusion per key across every replica, for a bounded time: a holder that outlives the
 * lease (or crashes) loses it. A caller that cannot take it within the wait gets LEASE_TIMEOUT.
 */
export interface Lease {
  withLease<T>(key: string, critical: (hold: LeaseHold) => Promise<T>): Promise<T>;
}

// ---------------------------------------------------------------------------------------------
// Sessions, verification codes, throttling

export interface Session {
  userId: number;
  csrfToken: string;
  createdAt: string;
}

export interface Sessions {
  save(sessionId: string, session: Session): Promise<void>;
  find(sessionId: string): Promise<Session | null>;
  delete(sessionId: string): Promise<void>;
}

export interface PendingPhoneChange {
  /** HMAC of the code: the code itself is never stored. */
  codeHash: string;
  phone: string;
  /** The validated change that the right code applies, as JSON. */
  change: string;
  attempts: number;
}

export type CodeCheck =
  | { outcome: 'missing' }
  | { outcome: 'wrong'; attemptsLeft: number }
  | { outcome: 'exhausted' }
  /** The pending change was consumed; `ttlMs` is what was left of its life, to restore it. */
  | { outcome: 'accepted'; pending: PendingPhoneChange; ttlMs: number };

export interface PhoneVerifications {
  savePending(userId: number, pending: PendingPhoneChange, ttlSeconds: number): Promise<void>;
  findPending(userId: number): Promise<PendingPhoneChange | null>;
  /**
   * Replaces the code of a pending change, keeping its attempt count and restarting its expiry.
   * False (and nothing written) when no change is pending any more.
   */
  replaceCode(userId: number, codeHash: string, ttlSeconds: number): Promise<boolean>;
  /** Compares, counts and consumes in one atomic step. */
  checkCode(userId: number, codeHash: string, maxAttempts: number): Promise<CodeCheck>;
  /**
   * Puts back a pending change that a right code consumed but that could not be applied, for the
   * rest of its life; a change made pending meanwhile wins.
   */
  restorePending(userId: number, pending: PendingPhoneChange, ttlMs: number): Promise<void>;
  dropPending(userId: number): Promise<void>;
  /** Claims the right to send a code now; returns the seconds to wait when one went out recently. */
  claimSendSlot(userId: number, intervalSeconds: number): Promise<number>;
  releaseSendSlot(userId: number): Promise<void>;
}

export interface ThrottleResult {
  allowed: boolean;
  retryAfterSeconds: number;
}

/** Fixed-window counters shared by every replica. */
export interface ThrottleCounters {
  hit(bucket: string, limit: number, windowMs: number): Promise<ThrottleResult>;
  /** Forgets a bucket's count: its window starts again with the next hit. */
  clear(bucket: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Avatars, settings, SMS

export interface StoredAvatar {
  hash: string;
  contentType: string;
  data: Buffer;
}

export interface Avatars {
  /** Stores the image (idempotently) and returns its content hash. */
  save(data: Buffer, contentType: string): Promise<string>;
  find(hash: string): Promise<StoredAvatar | null>;
}

/** The live settings, as the domain reads them. */
export interface SettingsReader {
  get<K extends SettingKey>(key: K): Promise<Settings[K]>;
}

/** The SMS provider. */
export interface SmsSender {
  send(to: string, text: string): Promise<void>;
}
