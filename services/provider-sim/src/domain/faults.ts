/** The knobs tests turn to make the simulated providers slow, flaky or unreachable. */
export interface FaultKnobs {
  /** Every provider answer (faulty or not) is delayed by this many milliseconds. */
  latency_ms: number;
  /** Fraction (0..1) of provider requests answered with `status` instead of being applied. */
  error_rate: number;
  /** The HTTP status faulty answers use. */
  status: number;
  /** When true every provider request is refused with `status` at once. */
  down: boolean;
}

export const DEFAULT_FAULT_KNOBS: Readonly<FaultKnobs> = Object.freeze({
  latency_ms: 0,
  error_rate: 0,
  status: 503,
  down: false,
});

export type FaultReason = 'down' | 'error-rate';

export interface FaultFailure {
  status: number;
  reason: FaultReason;
}

/** What to do with one provider request, decided once when it arrives. */
export interface FaultVerdict {
  delayMs: number;
  failWith: FaultFailure | undefined;
}

export interface FaultInjector {
  knobs(): FaultKnobs;
  /** Partial update: keys left undefined keep their current value. */
  update(patch: Partial<FaultKnobs>): FaultKnobs;
  reset(): FaultKnobs;
  decide(): FaultVerdict;
}

const PASS: FaultVerdict = Object.freeze({ delayMs: 0, failWith: undefined });

export function createFaultInjector(random: () => number = Math.random): FaultInjector {
  let current: FaultKnobs = { ...DEFAULT_FAULT_KNOBS };
  return {
    knobs: () => ({ ...current }),
    update(patch) {
      const next = { ...current };
      if (patch.latency_ms !== undefined) next.latency_ms = patch.latency_ms;
      if (patch.error_rate !== undefined) next.error_rate = patch.error_rate;
      if (patch.status !== undefined) next.status = patch.status;
      if (patch.down !== undefined) next.down = patch.down;
      current = next;
      return { ...current };
    },
    reset() {
      current = { ...DEFAULT_FAULT_KNOBS };
      return { ...current };
    },
    decide() {
      if (current.down) return { delayMs: 0, failWith: { status: current.status, reason: 'down' } };
      // random() is in [0, 1): a rate of 1 always fails, a rate of 0 never does.
      const failing = current.error_rate > 0 && random() < current.error_rate;
      if (!failing && current.latency_ms === 0) return PASS;
      return {
        delayMs: current.latency_ms,
        failWith: failing ? { status: current.status, reason: 'error-rate' } : undefined,
      };
    },
  };
}
