import { SpanKind, trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import type { SamplerSpec } from './env.ts';

/**
 * kafkajs's instrumentation opens a `poll` span per eachBatch call, with one `process` span per record
 * under it, only linked to the records' traces. The consumers continue each record's trace themselves
 * (a span per record, child of its `traceparent`), so these would be one stray trace per batch: they
 * start none. Everything else goes to the configured sampler.
 */
class NoBatchReceiveTraces implements Sampler {
  private readonly next: Sampler;
  constructor(next: Sampler) {
    this.next = next;
  }
  shouldSample(...args: Parameters<Sampler['shouldSample']>): SamplingResult {
    const [parent, , , kind, attributes] = args;
    if (
      kind === SpanKind.CLIENT &&
      attributes?.['messaging.system'] === 'kafka' &&
      attributes['messaging.operation.type'] === 'receive' &&
      !trace.getSpanContext(parent)
    ) {
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.next.shouldSample(...args);
  }
  toString(): string {
    return `NoBatchReceiveTraces{${this.next.toString()}}`;
  }
}

export function createSampler(spec: SamplerSpec): Sampler {
  return new NoBatchReceiveTraces(configuredSampler(spec));
}

function configuredSampler(spec: SamplerSpec): Sampler {
  switch (spec.kind) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(spec.ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(spec.ratio) });
  }
}
