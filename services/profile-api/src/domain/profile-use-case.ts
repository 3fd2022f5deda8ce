import { isDeepStrictEqual } from 'node:util';
import { type ProfileUpdateSource, type ProfileUpdatedEvent } from '@app/events';
import {
  fieldError,
  fieldErrors,
  notAuthenticated,
  outboxFull,
  updateContention,
  type FieldErrors,
} from './errors.ts';
import type { Avatars, OutboxSnapshot, ProfileCommit, SettingsReader, Users } from './ports.ts';
import { profileUpdatedEvent } from './profile-representation.ts';
import {
  PROFILE_FIELDS,
  phoneVerifiedAfter,
  type ProfileChanges,
  type ProfileField,
  type Profile,
} from './user.ts';

/** Optimistic commits per change before giving up with `update-contention` (a 409). */
export const MAX_COMMIT_ATTEMPTS = 12;
const PHONE_TAKEN = 'A user with this phone number already exists.';

export interface UpdateOptions {
  /** The number an SMS code just confirmed: the change verifies it (see phoneVerifiedAfter). */
  verifiedPhone?: string;
}

export interface AvatarUpload {
  data: Buffer;
  contentType: string;
}

export interface ProfileUseCaseDeps {
  users: Users;
  avatars: Avatars;
  settings: SettingsReader;
  /**
   * Called after each committed change, e.g. to publish its event at once; `outbox` is the user's
   * outbox as the commit left it, when the store reported it.
   */
  onCommitted?: (event: ProfileUpdatedEvent, outbox?: OutboxSnapshot) => void;
  /** Called when a change is refused because the user's outbox is full (e.g. to count it). */
  onOutboxFull?: (userId: number) => void;
  /** What a refusal for a full outbox tells the client to wait: about one relay round. */
  outboxFullRetryAfterSeconds?: number;
  /** Waits before the next attempt after `attempt` lost to another writer. */
  backoff?: (attempt: number) => Promise<void>;
}

/**
 * Full jitter, doubling from 2 ms up to 100 ms: writers that collided spread out instead of
 * colliding again in lockstep, and a loser never waits long.
 */
export function jitteredBackoff(attempt: number): Promise<void> {
  const ceilingMs = Math.min(100, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceilingMs));
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  return typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

export class ProfileUseCase {
  private readonly deps: ProfileUseCaseDeps;

  constructor(deps: ProfileUseCaseDeps) {
    this.deps = deps;
  }

  async getProfile(userId: number): Promise<Profile> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw notAuthenticated();
    return user;
  }

  /** Stores an uploaded image and returns the change that points the profile at it. */
  async prepareAvatar(upload: AvatarUpload | undefined, changes: ProfileChanges): Promise<ProfileChanges> {
    if (!upload) return changes;
    const hash = await this.deps.avatars.save(upload.data, upload.contentType);
    return { ...changes, avatar: { hash, content_type: upload.contentType } };
  }

  /** Every rule that needs the stored profile; throws the DRF-shaped 400 a client can act on. */
  async checkChange(user: Profile, changes: ProfileChanges): Promise<ProfileField[]> {
    const next = { ...user, ...changes };
    const errors: FieldErrors = {};
    for (const field of await this.deps.settings.get('USER_REQUIRED_FIELDS')) {
      if (isEmpty(next[field as ProfileField])) errors[field] = ['This field is required.'];
    }
    const changed = PROFILE_FIELDS.filter((field) => !isDeepStrictEqual(user[field], next[field]));
    // Numbers taken while the validator was off hold no claim (see updateProfile), so they are
    // looked up here; a claim made at the same moment is refused by the store when committing.
    if (changed.includes('phone') && (await this.phoneClaimFor(next.phone))) {
      if (await this.deps.users.isPhoneHeldByAnother(next.phone!, user.id)) errors.phone = [PHONE_TAKEN];
    }
    if (Object.keys(errors).length > 0) throw fieldErrors(errors);
    return changed;
  }

  /**
   * Commits a change optimistically: read, validate, then one atomic update conditional on the
   * version read. When another writer committed in between, it re-reads, re-validates and tries
   * again after a short jittered wait, up to MAX_COMMIT_ATTEMPTS times, then gives up with
   * `update-contention`. A change that alters nothing commits nothing and emits no event.
   *
   * Phone uniqueness, while PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE is on, is a claim the store
   * holds unique: a change of phone claims the new number (or releases the claim when the
   * validator is off or the number is removed), so of two users claiming one number at once
   * exactly one commits and the other gets the 400 on phone.
   *
   * Whether the phone is verified follows the change: only `verifiedPhone` (a number a code just
   * confirmed) sets it; any other change of number clears it. A change of that state alone is a
   * change of `phone` as consumers see it, so the event lists `phone`.
   */
  async updateProfile(
    userId: number,
    changes: ProfileChanges,
    source: ProfileUpdateSource,
    { verifiedPhone }: UpdateOptions = {},
  ): Promise<Profile> {
    const backoff = this.deps.backoff ?? jitteredBackoff;
    for (let attempt = 1; ; attempt += 1) {
      const user = await this.getProfile(userId);
      const changedFields = await this.checkChange(user, changes);
      const phoneChanged = changedFields.includes('phone');
      const next: Profile = { ...user, ...changes, version: user.version + 1 };
      next.phone_verified = phoneVerifiedAfter(user, next.phone, verifiedPhone);
      const verificationChanged = next.phone_verified !== user.phone_verified;
      const changed: ProfileField[] =
        verificationChanged && !phoneChanged ? [...changedFields, 'phone'] : changedFields;
      if (changed.length === 0) return user;

      const event = profileUpdatedEvent(next, changed, source);
      const set: ProfileCommit['set'] = Object.fromEntries(
        changedFields.map((field) => [field, next[field]]),
      );
      if (verificationChanged) set.phone_verified = next.phone_verified;
      const result = await this.deps.users.commitChange({
        userId,
        expectedVersion: user.version,
        set,
        event,
        phoneClaim: phoneChanged ? await this.phoneClaimFor(next.phone) : undefined,
      });
      switch (result.outcome) {
        case 'committed':
          this.deps.onCommitted?.(event, result.outbox);
          return result.user;
        case 'phone-taken':
          throw fieldError('phone', PHONE_TAKEN, 'phone-taken');
        case 'outbox-full':
          throw this.outboxFull(userId);
        case 'conflict':
          if (attempt >= MAX_COMMIT_ATTEMPTS) throw updateContention();
          await backoff(attempt);
      }
    }
  }

  private outboxFull(userId: number): Error {
    this.deps.onOutboxFull?.(userId);
    return outboxFull(this.deps.outboxFullRetryAfterSeconds ?? 5);
  }

  /** The number a profile showing `phone` claims: none while the validator is off. */
  private async phoneClaimFor(phone: string | null | undefined): Promise<string | null> {
    if (!phone) return null;
    return (await this.deps.settings.get('PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE')) ? phone : null;
  }
}
