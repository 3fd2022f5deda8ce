import { parseProfileUpdated } from '@app/events';
import { toLoyaltyPayload } from '../src/domain/loyalty-payload.ts';
import { event } from './support/events.ts';

function withPhone(phone: string | null, phoneVerified: boolean | undefined) {
  const base = event();
  const { phone_verified: _verified, ...profile } = base.profile;
  return event({
    profile: { ...profile, phone, ...(phoneVerified === undefined ? {} : { phone_verified: phoneVerified }) },
  });
}

describe('loyalty payload', () => {
  test('when the phone was verified by a code, then the provider gets the number', () => {
    expect(toLoyaltyPayload(withPhone('+905551112233', true)).phone).toBe('+905551112233');
  });

  test('when the phone is unverified, then the provider gets phone null, never the number', () => {
    expect(toLoyaltyPayload(withPhone('+905551112233', false)).phone).toBeNull();
  });

  test('when an event from before phone_verified existed arrives, then it parses and its phone counts as unverified', () => {
    const old = withPhone('+905551112233', undefined);
    const parsed = parseProfileUpdated(JSON.stringify(old));

    expect(parsed).toEqual({ ok: true, event: old });
    expect(toLoyaltyPayload(old).phone).toBeNull();
  });

  test('when phone_verified is not a boolean, then the event breaks the contract', () => {
    const bad = { ...event(), profile: { ...event().profile, phone_verified: 'yes' } };

    expect(parseProfileUpdated(JSON.stringify(bad)).ok).toBe(false);
  });
});
