import type { Redis } from 'ioredis';
import type { CodeCheck, PendingPhoneChange, PhoneVerifications } from '../domain/ports.ts';

const pendingKey = (userId: number) => `phone-verification:${userId}`;
const resendKey = (userId: number) => `phone-verification:${userId}:sent`;

// Compare, count and consume in one atomic step: two concurrent requests can never both use a code,
// and the attempt limit holds under parallel guessing.
const CHECK_SCRIPT = `
local pending = redis.call('HGETALL', KEYS[1])
if #pending == 0 then return { 'missing' } end
local fields = {}
for i = 1, #pending, 2 do fields[pending[i]] = pending[i + 1] end
if fields.codeHash == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return { 'accepted', fields.codeHash, fields.phone, fields.change, fields.attempts }
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return { 'exhausted' }
end
return { 'wrong', tostring(tonumber(ARGV[2]) - attempts) }
`;

export class VerificationStore implements PhoneVerifications {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async savePending(userId: number, pending: PendingPhoneChange, ttlSeconds: number): Promise<void> {
    await this.redis
      .multi()
      .del(pendingKey(userId))
      .hset(pendingKey(userId), { ...pending, attempts: String(pending.attempts) })
      .expire(pendingKey(userId), ttlSeconds)
      .exec();
  }

  async findPending(userId: number): Promise<PendingPhoneChange | null> {
    const fields = await this.redis.hgetall(pendingKey(userId));
    if (!fields.codeHash) return null;
    return {
      codeHash: fields.codeHash,
      phone: fields.phone ?? '',
      change: fields.change ?? '{}',
      attempts: Number(fields.attempts ?? 0),
    };
  }

  /** Replaces the code of a pending change, keeping its attempt count and restarting its expiry. */
  async replaceCode(userId: number, codeHash: string, ttlSeconds: number): Promise<void> {
    await this.redis
      .multi()
      .hset(pendingKey(userId), 'codeHash', codeHash)
      .expire(pendingKey(userId), ttlSeconds)
      .exec();
  }

  async checkCode(userId: number, codeHash: string, maxAttempts: number): Promise<CodeCheck> {
    const reply = (await this.redis.eval(
      CHECK_SCRIPT,
      1,
      pendingKey(userId),
      codeHash,
      maxAttempts,
    )) as string[];
    switch (reply[0]) {
      case 'accepted':
        return {
          outcome: 'accepted',
          pending: { codeHash: reply[1]!, phone: reply[2]!, change: reply[3]!, attempts: Number(reply[4]) },
        };
      case 'wrong':
        return { outcome: 'wrong', attemptsLeft: Number(reply[1]) };
      case 'exhausted':
        return { outcome: 'exhausted' };
      default:
        return { outcome: 'missing' };
    }
  }

  async dropPending(userId: number): Promise<void> {
    await this.redis.del(pendingKey(userId));
  }

  async releaseSendSlot(userId: number): Promise<void> {
    await this.redis.del(resendKey(userId));
  }

  /** Claims the right to send a code now; returns the seconds to wait when one went out recently. */
  async claimSendSlot(userId: number, intervalSeconds: number): Promise<number> {
    const claimed = await this.redis.set(resendKey(userId), '1', 'EX', intervalSeconds, 'NX');
    if (claimed === 'OK') return 0;
    return Math.max(1, await this.redis.ttl(resendKey(userId)));
  }
}
