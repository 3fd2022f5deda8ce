import { trace, type TextMapPropagator } from '@opentelemetry/api';
import { unsampledSpanContext } from './context.ts';

/**
 * `inner`, also injecting the span context of an unsampled operation, which has no active span (see
 * contextFor): outgoing calls made under it (undici, http, with requireParent set) start no span and
 * pass no context of their own, and still tell the callee that the trace is not sampled.
 */
export function unsampledAware(inner: TextMapPropagator): TextMapPropagator {
  return {
    inject(ctx, carrier, setter) {
      const active = trace.getSpanContext(ctx);
      const unsampled = active && trace.isSpanContextValid(active) ? undefined : unsampledSpanContext(ctx);
      inner.inject(unsampled ? trace.setSpanContext(ctx, unsampled) : ctx, carrier, setter);
    },
    extract: (ctx, carrier, getter) => inner.extract(ctx, carrier, getter),
    fields: () => inner.fields(),
  };
}
