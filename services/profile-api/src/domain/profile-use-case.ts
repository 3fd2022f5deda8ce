import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import {
  PROFILE_EVENTS_SCHEMA_VERSION,
  PROFILE_UPDATED,
  type ProfileUpdateSource,
  type ProfileUpdatedEvent,
} from '@app/events';
import { fieldErrors, notAuthenticated, updateContention, type FieldErrors } from './errors.ts';
import type { Avatars, SettingsReader, Users } from './ports.ts';
import { toSnapshot } from './profile-representation.ts';
import { PROFILE_FIELDS, type ProfileChanges, type ProfileField, type User } from './user.ts';

const MAX_COMMIT_ATTEMPTS = 8;

export interface AvatarUpload {
  data: Buffer;
  contentType: string;
}

export interface ProfileUseCaseDeps {
  users: Users;
  avatars: Avatars;
  settings: SettingsReader;
  /** Called after each committed change, e.g. to publish its event at once. */
  onCommitted?: (event: ProfileUpdatedEvent) => void;
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

  async getProfile(userId: number): Promise<User> {
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
  async checkChange(user: User, changes: ProfileChanges): Promise<ProfileField[]> {
    const next = { ...user, ...changes };
    const errors: FieldErrors = {};
    for (const field of await this.deps.settings.get('USER_REQUIRED_FIELDS')) {
      if (isEmpty(next[field as ProfileField])) errors[field] = ['This field is required.'];
    }
    const changed = PROFILE_FIELDS.filter((field) => !isDeepStrictEqual(user[field], next[field]));
    if (
      changed.includes('phone') &&
      next.phone &&
      (await this.deps.settings.get('PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE'))
    ) {
      if (await this.deps.users.isPhoneTakenByAnother(next.phone, user.id)) {
        errors.phone = ['A user with this phone number already exists.'];
      }
    }
    if (Object.keys(errors).length > 0) throw fieldErrors(errors);
    return changed;
  }

  /**
   * Commits a change as the only writer of this user (a per-user lock), and still conditionally on
   * the version it read, so a writer that outlived its lock cannot overwrite a newer change: it
   * re-reads and re-validates. A change that alters nothing commits nothing and emits no event.
   */
  async updateProfile(userId: number, changes: ProfileChanges, source: ProfileUpdateSource): Promise<User> {
    const commit = () => this.deps.users.exclusive(userId, () => this.commit(userId, changes, source));
    // Lock order is always phone, then user: nothing takes them the other way round.
    if (changes.phone && (await this.deps.settings.get('PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE'))) {
      return this.deps.users.exclusivePhone(changes.phone, commit);
    }
    return commit();
  }

  private async commit(userId: number, changes: ProfileChanges, source: ProfileUpdateSource): Promise<User> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt += 1) {
      const user = await this.getProfile(userId);
      const changed = await this.checkChange(user, changes);
      if (changed.length === 0) return user;

      const next: User = { ...user, ...changes, version: user.version + 1 };
      const event: ProfileUpdatedEvent = {
        event_id: randomUUID(),
        type: PROFILE_UPDATED,
        schema_version: PROFILE_EVENTS_SCHEMA_VERSION,
        occurred_at: new Date().toISOString(),
        user_id: userId,
        profile_version: next.version,
        changed_fields: changed,
        profile: toSnapshot(next),
        source,
      };
      const set = Object.fromEntries(changed.map((field) => [field, next[field]])) as ProfileChanges;
      const committed = await this.deps.users.commitChange(userId, user.version, set, event);
      if (committed) {
        this.deps.onCommitted?.(event);
        return committed;
      }
    }
    throw updateContention();
  }
}
