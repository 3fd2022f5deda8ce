import { trace } from '@opentelemetry/api';
import { DEFAULT_BATCH, batchSettings } from '../src/env.ts';
import { PooledIdGenerator } from '../src/ids.ts';

describe('pooled ids', () => {
  it('when many ids are drawn, then each is valid lowercase hex of its length and none repeats', () => {
    const ids = new PooledIdGenerator();
    const traces = new Set<string>();
    const spans = new Set<string>();
    // More than one pool's worth of both, so refills are crossed.
    for (let i = 0; i < 1_000; i++) {
      const traceId = ids.generateTraceId();
      const spanId = ids.generateSpanId();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(trace.isSpanContextValid({ traceId, spanId, traceFlags: 0 })).toBe(true);
      traces.add(traceId);
      spans.add(spanId);
    }
    expect(traces.size).toBe(1_000);
    expect(spans.size).toBe(1_000);
  });

  it('when trace ids are drawn, then their leading byte spreads evenly (the ratio sampler reads them)', () => {
    const ids = new PooledIdGenerator();
    const draws = 20_000;
    let low = 0;
    for (let i = 0; i < draws; i++) if (parseInt(ids.generateTraceId().slice(0, 2), 16) < 128) low += 1;
    expect(low / draws).toBeGreaterThan(0.47);
    expect(low / draws).toBeLessThan(0.53);
  });
});

describe('batch span processor settings (OTEL_BSP_*)', () => {
  it('when none is set, then the specification defaults apply', () => {
    expect(batchSettings({})).toEqual(DEFAULT_BATCH);
    expect(DEFAULT_BATCH).toEqual({
      scheduledDelayMillis: 5_000,
      exportTimeoutMillis: 30_000,
      maxQueueSize: 2_048,
      maxExportBatchSize: 512,
    });
  });

  it('when they are set, then each is used; a bad value or a batch beyond the queue is refused', () => {
    expect(
      batchSettings({
        OTEL_BSP_SCHEDULE_DELAY: '1000',
        OTEL_BSP_EXPORT_TIMEOUT: '5000',
        OTEL_BSP_MAX_QUEUE_SIZE: '4096',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1024',
      }),
    ).toEqual({
      scheduledDelayMillis: 1_000,
      exportTimeoutMillis: 5_000,
      maxQueueSize: 4_096,
      maxExportBatchSize: 1_024,
    });
    expect(() => batchSettings({ OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toThrow(/OTEL_BSP_SCHEDULE_DELAY/);
    expect(() => batchSettings({ OTEL_BSP_MAX_QUEUE_SIZE: '0' })).toThrow(/positive integer/);
    expect(() => batchSettings({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4096' })).toThrow(/must not exceed/);
  });
});
