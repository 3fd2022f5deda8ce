import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

const POOL_BYTES = 4_096;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Trace and span ids cut from a pool of random bytes, hex-encoded 4 KiB at a time. The SDK's
 * RandomIdGenerator draws Math.random four bytes at a time and hex-encodes a buffer for every id;
 * every request pays for two ids (its trace and its server span, sampled or not) and a sampled read
 * for two more, a few hundred nanoseconds each. Here an id is a slice of a string: tens of
 * nanoseconds. The bytes come from the system's CSPRNG, so ids are uniform, as the ratio sampler
 * (which reads the trace id) assumes. An all-zero id is invalid: one is drawn again.
 */
export class PooledIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(POOL_BYTES);
  private pool = '';
  private at = 0;

  generateTraceId(): string {
    const id = this.take(32);
    return id === ZERO_TRACE_ID ? this.generateTraceId() : id;
  }

  generateSpanId(): string {
    const id = this.take(16);
    return id === ZERO_SPAN_ID ? this.generateSpanId() : id;
  }

  private take(chars: number): string {
    if (this.at + chars > this.pool.length) {
      this.pool = randomFillSync(this.bytes).toString('hex');
      this.at = 0;
    }
    const id = this.pool.slice(this.at, this.at + chars);
    this.at += chars;
    return id;
  }
}
