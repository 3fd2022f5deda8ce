/** What register.ts leaves behind for the service's stop path (kept on globalThis: one per process). */
export interface TracingHandle {
  serviceName: string;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const KEY = Symbol.for('@app/telemetry.tracing');
type Holder = { [KEY]?: TracingHandle };

export function setTracingHandle(handle: TracingHandle | undefined): void {
  (globalThis as Holder)[KEY] = handle;
}

export function tracingHandle(): TracingHandle | undefined {
  return (globalThis as Holder)[KEY];
}

/** Exports the spans still buffered; a service's stop() calls it last. A no-op with tracing off. */
export async function flushTelemetry(): Promise<void> {
  await tracingHandle()
    ?.forceFlush()
    .catch(() => undefined);
}

/** Flushes and stops tracing for good: the last thing a main process does before it exits. */
export async function shutdownTelemetry(): Promise<void> {
  const handle = tracingHandle();
  if (!handle) return;
  setTracingHandle(undefined);
  await handle.shutdown().catch(() => undefined);
}
