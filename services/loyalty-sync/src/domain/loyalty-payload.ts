import type { ProfileSnapshot, ProfileUpdatedEvent } from '@app/events';

/** The profile fields the loyalty card service keeps; nothing else leaves this service. */
export const LOYALTY_FIELDS = [
  'first_name',
  'last_name',
  'email',
  'phone',
  'date_of_birth',
  'gender',
  'language_code',
  'email_allowed',
  'sms_allowed',
  'whatsapp_allowed',
  'call_allowed',
] as const satisfies readonly (keyof ProfileSnapshot)[];

export type LoyaltyField = (typeof LOYALTY_FIELDS)[number];

export type LoyaltyCustomerPayload = Pick<ProfileSnapshot, LoyaltyField> & { profile_version: number };

export function toLoyaltyPayload(event: ProfileUpdatedEvent): LoyaltyCustomerPayload {
  const { profile } = event;
  return {
    first_name: profile.first_name,
    last_name: profile.last_name,
    email: profile.email,
    phone: profile.phone,
    date_of_birth: profile.date_of_birth,
    gender: profile.gender,
    language_code: profile.language_code,
    email_allowed: profile.email_allowed,
    sms_allowed: profile.sms_allowed,
    whatsapp_allowed: profile.whatsapp_allowed,
    call_allowed: profile.call_allowed,
    profile_version: event.profile_version,
  };
}
