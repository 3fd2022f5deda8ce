import { Counter, type Registry } from '@app/service-kit';
import { SMS_REFUSAL_REASONS, type SmsRefusalReason } from './domain/phone-verification-use-case.ts';

/** What the abuse limits refuse: SMS by reason, and logins to accounts out of attempts. */
export function abuseMetrics(registry: Registry): {
  smsRefused: (reason: SmsRefusalReason) => void;
  loginLocked: () => void;
} {
  const smsRefused = new Counter({
    name: 'profile_api_sms_refused_total',
    help: 'Verification SMS refused before sending: resend-interval (per user), per-number, global budget',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // Every reason is exported from the start, so a rate() alert has a series before the first refusal.
  for (const reason of SMS_REFUSAL_REASONS) smsRefused.labels(reason).inc(0);
  const loginLocked = new Counter({
    name: 'profile_api_login_locked_total',
    help: 'Logins refused (429) because the account used up its attempts (ABUSE_LIMITS)',
    registers: [registry],
  });
  return {
    smsRefused: (reason) => smsRefused.labels(reason).inc(),
    loginLocked: () => loginLocked.inc(),
  };
}
