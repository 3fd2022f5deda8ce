import { randomUUID } from 'node:crypto';
import { WRITABLE_PROFILE_FIELDS, parseProfileUpdated, type ProfileUpdatedEvent } from '../src/index.ts';

function event(overrides: Partial<ProfileUpdatedEvent> = {}): Record<string, unknown> {
  return {
    event_id: randomUUID(),
    type: 'ProfileUpdated',
    schema_version: 1,
    occurred_at: '2026-01-01T00:00:00.000Z',
    user_id: 7,
    profile_version: 4,
    changed_fields: ['first_name'],
    profile: {
      id: 7,
      email: 'ada@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email_allowed: true,
      sms_allowed: false,
      whatsapp_allowed: false,
      call_allowed: null,
      phone: null,
      date_of_birth: null,
      gender: null,
      language_code: 'en',
      attributes: {},
      avatar: null,
      date_joined: '2025-01-01T00:00:00.000Z',
    },
    source: 'profile',
    ...overrides,
  };
}

describe('ProfileUpdated contract', () => {
  test('when a resync event names every field, then consumers accept it', () => {
    const parsed = parseProfileUpdated(
      JSON.stringify(event({ source: 'resync', changed_fields: [...WRITABLE_PROFILE_FIELDS] })),
    );
    expect(parsed).toMatchObject({ ok: true, event: { source: 'resync' } });
  });

  test('when the source is not one of the contract, then the event is refused', () => {
    const parsed = parseProfileUpdated(JSON.stringify({ ...event(), source: 'backfill' }));
    expect(parsed).toMatchObject({ ok: false });
  });
});
