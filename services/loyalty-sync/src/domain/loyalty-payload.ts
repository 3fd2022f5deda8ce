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

/**
 * The customer as the loyalty card service keeps it. The phone is a loyalty identity, so only a
 * number the user confirmed with an SMS code goes out: an unverified one (set through the plain
 * profile endpoint or at registration, or an event from before `phone_verified` existed) is sent
 * as `phone: null`, which also clears a number the provider held from before. Omitting it
 * instead would leave the provider a stale number under a PUT that replaces the customer.
 */
export function toLoyaltyPayload(event: ProfileUpdatedEvent): LoyaltyCustomerPayload {
  const { profile } = event;
  return {
    first_name: profile.first_name,
    last_name: profile.last_name,
    email: profile.email,
    phone: profile.phone_verified === true ? profile.phone : null,
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
