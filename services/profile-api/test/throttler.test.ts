import { parseRate } from '../src/domain/throttler.ts';
import { sniffImageType } from '../src/domain/avatar-image.ts';

describe('rates and image types', () => {
  test.each([
    ['10/min', { limit: 10, windowMs: 60_000 }],
    ['5/s', { limit: 5, windowMs: 1_000 }],
    ['100/hour', { limit: 100, windowMs: 3_600_000 }],
    ['1000/day', { limit: 1000, windowMs: 86_400_000 }],
    ['5/15min', { limit: 5, windowMs: 900_000 }],
    ['2/3h', { limit: 2, windowMs: 10_800_000 }],
  ])('when the rate is %s, then it allows %j', (rate, expected) => {
    expect(parseRate(rate)).toEqual(expected);
  });

  test('when the rate is not DRF notation, then there is no rate', () => {
    expect(parseRate('ten per minute')).toBeUndefined();
    expect(parseRate('5/0min')).toBeUndefined();
  });

  test('when bytes start like PNG, JPEG or WebP, then the type follows the bytes, not a name', () => {
    expect(sniffImageType(Buffer.from('89504e470d0a1a0a0000', 'hex'))).toBe('image/png');
    expect(sniffImageType(Buffer.from('ffd8ffe000104a464946', 'hex'))).toBe('image/jpeg');
    expect(
      sniffImageType(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')])),
    ).toBe('image/webp');
    expect(sniffImageType(Buffer.from('GIF89a'))).toBeUndefined();
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
  });
});
