import { createHmac, randomInt } from 'node:crypto';
import { fieldError, throttled } from './errors.ts';
import type { PhoneVerifications, SettingsReader, SmsSender } from './ports.ts';
import type { ProfileUseCase } from './profile-use-case.ts';
import type { ValidatedProfileInput } from './profile-schema.ts';
import type { Throttler } from './throttler.ts';
import type { Profile, ProfileChanges } from './user.ts';

const MAX_WRONG_CODES = 5;
const expired = () => fieldError('code', 'The verification code has expired. Request a new one.');
const RESEND_INTERVAL_SECONDS = 60;

/**
 * Why an SMS was refused: the user's own resend interval, the destination number's hourly
 * budget, or the service's global budget (ABUSE_LIMITS).
 */
export const SMS_REFUSAL_REASONS = ['resend-interval', 'per-number', 'global'] as const;
export type SmsRefusalReason = (typeof SMS_REFUSAL_REASONS)[number];

/** The change applied, or a code sent to confirm it (a new number, or a resend). */
export type LoyaltyUpdateResult = { outcome: 'updated'; user: Profile } | { outcome: 'code-sent' };

export interface PhoneVerificationDeps {
  profiles: ProfileUseCase;
  store: PhoneVerifications;
  sms: SmsSender;
  settings: SettingsReader;
  throttler: Throttler;
  secretKey: string;
  /** Observes every SMS refused before it was sent (metrics). */
  onSmsRefused?: (reason: SmsRefusalReason) => void;
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

  /**
   * A request without a code either applies at once or sends a code: a new number needs a code,
   * and so does the current number when it is unverified and the client asks for one (`resend`);
   * repeating the current number without `resend` changes nothing about it, so a client that sends
   * back what it read gets a 200. Removing the number (null) never needs a code and never sends
   * an SMS. Whatever is refused (400, 429) or fails (503) leaves the pending change and the code
   * in force as they were.
   */
  async update(userId: number, input: ValidatedProfileInput): Promise<LoyaltyUpdateResult> {
    const { profiles, store } = this.deps;
    const user = await profiles.getProfile(userId);
    const { phone } = input.changes;

    if (input.code) {
      await this.deps.throttler.check('phone-verification', String(userId));
      return { outcome: 'updated', user: await this.confirm(user, input) };
    }
    if (typeof phone === 'string' && (phone !== user.phone || (input.resend && !user.phone_verified))) {
      await this.deps.throttler.check('phone-verification', String(userId));
      await this.startVerification(user, { ...input.changes, phone });
      return { outcome: 'code-sent' };
    }
    if (input.resend && phone !== null) {
      const pending = await store.findPending(userId);
      if (pending) {
        await this.deps.throttler.check('phone-verification', String(userId));
        await this.sendCode(userId, pending.phone, async (codeHash, ttl) => {
          if (!(await store.replaceCode(userId, codeHash, ttl))) throw expired();
        });
        return { outcome: 'code-sent' };
      }
    }
    return {
      outcome: 'updated',
      user: await profiles.updateProfile(userId, input.changes, 'profile-with-loyalty'),
    };
  }

  private async startVerification(user: Profile, changes: ProfileChanges & { phone: string }): Promise<void> {
    // Everything but the code is checked now, so the code confirms a change that will apply.
    await this.deps.profiles.checkChange(user, changes);
    const { phone } = changes;
    await this.sendCode(user.id, phone, (codeHash, ttl) =>
      this.deps.store.savePending(
        user.id,
        { codeHash, phone, change: JSON.stringify(changes), attempts: 0 },
        ttl,
      ),
    );
  }

  /**
   * Sends a fresh code, and only once it went out lets `remember` replace what is pending: a
   * refusal or a failed send leaves the pending change and its code untouched.
   */
  private async sendCode(
    userId: number,
    phone: string,
    remember: (codeHash: string, ttlSeconds: number) => Promise<void>,
  ): Promise<void> {
    const { store, throttler } = this.deps;
    const wait = await store.claimSendSlot(userId, RESEND_INTERVAL_SECONDS);
    if (wait > 0) throw this.refused('resend-interval', wait);
    // Per number first: pumping one number must not spend the budget everyone shares.
    const numberWait = await throttler.hitAbuseLimit('sms_per_number', phone);
    const globalWait = numberWait > 0 ? 0 : await throttler.hitAbuseLimit('sms_global', 'all');
    if (numberWait > 0 || globalWait > 0) {
      // Nothing was sent: the user's own interval does not start.
      await store.releaseSendSlot(userId);
      throw numberWait > 0 ? this.refused('per-number', numberWait) : this.refused('global', globalWait);
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const ttl = await this.deps.settings.get('SMS_OTP_EXPIRE_TIME');
    try {
      await this.deps.sms.send(phone, `Your verification code is ${code}`);
    } catch (error) {
      // Nothing was sent, so the user may try again at once.
      await this.deps.store.releaseSendSlot(userId);
      throw error;
    }
    await remember(this.hash(userId, code), ttl);
  }

  private async confirm(user: Profile, input: ValidatedProfileInput): Promise<Profile> {
    const { store, profiles } = this.deps;
    const pending = await store.findPending(user.id);
    if (!pending) throw expired();
    if (input.changes.phone !== undefined && input.changes.phone !== pending.phone) {
      throw fieldError('code', 'This code was sent to a different phone number.');
    }
    const change = { ...(JSON.parse(pending.change) as ProfileChanges), ...input.changes };
    // A change that would be refused is refused before the code is looked at, so it stays usable.
    await profiles.checkChange(user, change);
    const check = await store.checkCode(user.id, this.hash(user.id, input.code!), MAX_WRONG_CODES);
    switch (check.outcome) {
      case 'missing':
        throw expired();
      case 'wrong':
        throw fieldError('code', 'Invalid verification code.');
      case 'exhausted':
        throw fieldError(
          'code',
          'Too many invalid codes. The pending change was discarded; request a new code.',
        );
      case 'accepted':
        try {
          return await profiles.updateProfile(user.id, change, 'profile-with-loyalty', {
            verifiedPhone: check.pending.phone,
          });
        } catch (error) {
          // Refused at commit (a number claimed meanwhile, contention): the code stays in force.
          await store.restorePending(user.id, check.pending, check.ttlMs);
          throw error;
        }
    }
  }

  private refused(reason: SmsRefusalReason, retryAfterSeconds: number): Error {
    this.deps.onSmsRefused?.(reason);
    return throttled(retryAfterSeconds);
  }

  private hash(userId: number, code: string): string {
    return createHmac('sha256', this.deps.secretKey).update(`${userId}:${code}`).digest('hex');
  }
}
