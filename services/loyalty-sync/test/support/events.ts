import { randomUUID } from 'node:crypto';
import type { ProfileUpdatedEvent } from '@app/events';
import type { LoyaltyCardServiceSetting } from '@app/settings';

export function event(overrides: Partial<ProfileUpdatedEvent> = {}): ProfileUpdatedEvent {
  return {
    event_id: randomUUID(),
    type: 'ProfileUpdated',
    schema_version: 1,
    occurred_at: '2026-01-01T00:00:00.000Z',
    user_id: 7,
    profile_version: 3,
    changed_fields: ['first_name'],
    profile: {
      id: 7,
      email: 'ada@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email_allowed: true,
      sms_allowed: false,
      whatsapp_allowed: true,
      call_allowed: null,
      phone: '+905551112233',
      phone_verified: true,
      date_of_birth: '1990-12-10',
      gender: 'female',
      language_code: 'en',
      attributes: { secret: 'not for the provider' },
      avatar: '/media/avatars/7.png',
      date_joined: '2025-01-01T00:00:00.000Z',
    },
    source: 'profile-with-loyalty',
    ...overrides,
  };
}

export function setting(overrides: Partial<LoyaltyCardServiceSetting> = {}): LoyaltyCardServiceSetting {
  return {
    enabled: true,
    base_url: 'http://loyalty.test',
    api_key: 'key-1',
    timeout_ms: 500,
    sync_all_updates: false,
    ...overrides,
  };
}
