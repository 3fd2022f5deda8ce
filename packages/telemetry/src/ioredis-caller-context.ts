// ioredis's auto-pipelining queues each caller's command and sends the whole queue later, from one
// setImmediate scheduled by whoever queued first. instrumentation-ioredis starts its span when the
// command is sent, under the context active then: the first caller's. Under load a sampled request
// that queued first got every other request's commands as children (hundreds of spans per trace,
// each exported), and its own commands went untraced whenever someone else had queued first.
import { context, trace, type Context } from '@opentelemetry/api';
import {
  IORedisInstrumentation,
  type IORedisInstrumentationConfig,
} from '@opentelemetry/instrumentation-ioredis';
import { isWrapped, type InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';

const CALLER_CONTEXT = Symbol('caller context');
const KEEPS_CALLER = Symbol('keeps caller context');

type SendCommand = (this: unknown, command: unknown, ...rest: unknown[]) => unknown;
interface Stamped {
  /** The caller's context; null: the caller had no span, so the command is sent untraced. */
  [CALLER_CONTEXT]?: Context | null;
}
interface Patched {
  sendCommand: SendCommand & { [KEEPS_CALLER]?: SendCommand };
}
interface IORedisExports {
  prototype: Patched;
  Pipeline?: { prototype: Patched };
}

function exportsOf(module: unknown): IORedisExports {
  const namespace = module as { [Symbol.toStringTag]?: string; default?: IORedisExports };
  return namespace[Symbol.toStringTag] === 'Module' ? namespace.default! : (module as IORedisExports);
}

function unwrap(target: Patched): void {
  const original = target.sendCommand[KEEPS_CALLER];
  if (original) target.sendCommand = original;
}

/**
 * Each command remembers the context it was queued in (Pipeline#sendCommand, which runs in the
 * caller's), and the traced Redis#sendCommand runs in that context when the queue is sent.
 *
 * With `untracedWithoutSpan` (requireParentSpan), a command whose caller had no active span (an
 * unsampled request: 9 in 10 at the default sampling) remembers only that, and is sent by ioredis's
 * own sendCommand: no context switch (an AsyncLocalStorage frame per command) and no pass through
 * the instrumentation, which would find no span and do nothing. That is what it did before, cheaper.
 */
function keepCallerContext(
  { prototype: redis, Pipeline }: IORedisExports,
  untracedWithoutSpan: boolean,
): void {
  if (!Pipeline) return;
  const queue = Pipeline.prototype.sendCommand;
  const stamping: Patched['sendCommand'] = function (this: unknown, command: unknown) {
    if (command && typeof command === 'object') {
      const caller = context.active();
      (command as Stamped)[CALLER_CONTEXT] = untracedWithoutSpan && !trace.getSpan(caller) ? null : caller;
    }
    // eslint-disable-next-line prefer-rest-params
    return queue.apply(this, arguments as unknown as [unknown]);
  };
  stamping[KEEPS_CALLER] = queue;
  Pipeline.prototype.sendCommand = stamping;

  const send = redis.sendCommand;
  // The instrumentation's wrapper keeps what it wraps: ioredis's own sendCommand.
  const untraced = isWrapped(send) ? (send.__original as SendCommand) : send;
  const restoring: Patched['sendCommand'] = function (this: unknown, command: unknown) {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments as unknown as [unknown];
    const caller = command && typeof command === 'object' ? (command as Stamped)[CALLER_CONTEXT] : undefined;
    if (caller === null) return untraced.apply(this, args);
    return caller ? context.with(caller, () => send.apply(this, args)) : send.apply(this, args);
  };
  restoring[KEEPS_CALLER] = send;
  redis.sendCommand = restoring;
}

function dropCallerContext({ prototype: redis, Pipeline }: IORedisExports): void {
  unwrap(redis);
  if (Pipeline) unwrap(Pipeline.prototype);
}

/** instrumentation-ioredis whose command spans are children of the caller that sent the command. */
export class CallerContextIORedisInstrumentation extends IORedisInstrumentation {
  constructor(config: IORedisInstrumentationConfig = {}) {
    super(config);
  }

  override init(): InstrumentationNodeModuleDefinition[] {
    const definitions = super.init();
    for (const definition of definitions) {
      const { patch, unpatch } = definition;
      // Ours goes outside the instrumentation's wrapper, and comes off first, so a module patched
      // twice (import and require hooks) never ends up wrapped twice.
      definition.patch = (module, version) => {
        dropCallerContext(exportsOf(module));
        const patched = patch ? patch(module, version) : module;
        keepCallerContext(exportsOf(patched), this.getConfig().requireParentSpan === true);
        return patched;
      };
      definition.unpatch = (module, version) => {
        if (module !== undefined) dropCallerContext(exportsOf(module));
        unpatch?.(module, version);
      };
    }
    return definitions;
  }
}
