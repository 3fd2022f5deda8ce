import { createHmac, randomInt } from 'node:crypto';
import { fieldError, throttled } from './errors.ts';
import type { PhoneVerifications, SettingsReader, SmsSender } from './ports.ts';
import type { ProfileUseCase } from './profile-use-case.ts';
import type { ValidatedProfileInput } from './profile-schema.ts';
import type { Throttler } from './throttler.ts';
import type { Profile, ProfileChanges } from './user.ts';

const MAX_WRONG_CODES = 5;
const RESEND_INTERVAL_SECONDS = 60;

/** The change applied, or a code sent to confirm it (a new number, or a resend). */
export type LoyaltyUpdateResult = { outcome: 'updated'; user: Profile } | { outcome: 'code-sent' };

export interface PhoneVerificationDeps {
  profiles: ProfileUseCase;
  store: PhoneVerifications;
  sms: SmsSender;
  settings: SettingsReader;
  throttler: Throttler;
  secretKey: string;
}

/**
 * Profile updates on the with-loyalty endpoints: a new phone number is applied only after the
 * user proves they hold it. Until then the validated change waits in Redis next to the HMAC of
 * a one-time code; the code itself exists only in the SMS.
 */
export class PhoneVerificationUseCase {
  private readonly deps: PhoneVerificationDeps;

  constructor(deps: PhoneVerificationDeps) {
    this.deps = deps;
  }

  async update(userId: number, input: ValidatedProfileInput): Promise<LoyaltyUpdateResult> {
    const { profiles, store } = this.deps;
    const user = await profiles.getProfile(userId);
    const changesPhone = input.changes.phone !== undefined && input.changes.phone !== user.phone;

    if (input.code) {
      await this.deps.throttler.check('phone-verification', String(userId));
      return { outcome: 'updated', user: await this.confirm(user, input) };
    }
    if (changesPhone) {
      await this.deps.throttler.check('phone-verification', String(userId));
      await this.startVerification(user, input.changes);
      return { outcome: 'code-sent' };
    }
    if (input.resend) {
      const pending = await store.findPending(userId);
      if (pending) {
        await this.deps.throttler.check('phone-verification', String(userId));
        await this.sendCode(userId, pending.phone, (codeHash, ttl) =>
          store.replaceCode(userId, codeHash, ttl),
        );
        return { outcome: 'code-sent' };
      }
    }
    return {
      outcome: 'updated',
      user: await profiles.updateProfile(userId, input.changes, 'profile-with-loyalty'),
    };
  }

  private async startVerification(user: Profile, changes: ProfileChanges): Promise<void> {
    // Everything but the code is checked now, so the code confirms a change that will apply.
    await this.deps.profiles.checkChange(user, changes);
    const phone = changes.phone!;
    try {
      await this.sendCode(user.id, phone, (codeHash, ttl) =>
        this.deps.store.savePending(
          user.id,
          { codeHash, phone, change: JSON.stringify(changes), attempts: 0 },
          ttl,
        ),
      );
    } catch (error) {
      // A change whose code never reached the user must not linger waiting for it.
      await this.deps.store.dropPending(user.id);
      throw error;
    }
  }

  private async sendCode(
    userId: number,
    phone: string,
    remember: (codeHash: string, ttlSeconds: number) => Promise<void>,
  ): Promise<void> {
    const wait = await this.deps.store.claimSendSlot(userId, RESEND_INTERVAL_SECONDS);
    if (wait > 0) throw throttled(wait);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await remember(this.hash(userId, code), await this.deps.settings.get('SMS_OTP_EXPIRE_TIME'));
    try {
      await this.deps.sms.send(phone, `Your verification code is ${code}`);
    } catch (error) {
      // Nothing was sent, so the user may try again at once.
      await this.deps.store.releaseSendSlot(userId);
      throw error;
    }
  }

  private async confirm(user: Profile, input: ValidatedProfileInput): Promise<Profile> {
    const { store, profiles } = this.deps;
    const pending = await store.findPending(user.id);
    if (!pending) throw fieldError('code', 'The verification code has expired. Request a new one.');
    if (input.changes.phone !== undefined && input.changes.phone !== pending.phone) {
      throw fieldError('code', 'This code was sent to a different phone number.');
    }
    const check = await store.checkCode(user.id, this.hash(user.id, input.code!), MAX_WRONG_CODES);
    switch (check.outcome) {
      case 'missing':
        throw fieldError('code', 'The verification code has expired. Request a new one.');
      case 'wrong':
        throw fieldError('code', 'Invalid verification code.');
      case 'exhausted':
        throw fieldError(
          'code',
          'Too many invalid codes. The pending change was discarded; request a new code.',
        );
      case 'accepted': {
        const change = { ...(JSON.parse(check.pending.change) as ProfileChanges), ...input.changes };
        return profiles.updateProfile(user.id, change, 'profile-with-loyalty');
      }
    }
  }

  private hash(userId: number, code: string): string {
    return createHmac('sha256', this.deps.secretKey).update(`${userId}:${code}`).digest('hex');
  }
}
