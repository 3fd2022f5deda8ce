import { randomUUID } from 'node:crypto';
import { createFaultInjector, type FaultInjector } from './faults.ts';
import { createLoyaltyLedger, type LedgerCounts, type LoyaltyLedger } from './loyalty-ledger.ts';
import { createSmsGateway, type SmsGateway } from './sms-gateway.ts';

export interface SimulatorStats extends LedgerCounts {
  rejected_by_fault: number;
  /** Provider requests whose client went away while the simulated latency ran (not applied). */
  aborted_by_client: number;
  sms_sent: number;
}

export interface ProviderSimulator {
  readonly sms: SmsGateway;
  readonly loyalty: LoyaltyLedger;
  readonly faults: FaultInjector;
  recordFaultRejection(): void;
  recordClientAbort(): void;
  stats(): SimulatorStats;
  /** Clears messages, customers, counters and fault knobs. */
  reset(): void;
}

export interface SimulatorDeps {
  now?: () => Date;
  newId?: () => string;
  random?: () => number;
}

export function createSimulator({
  now = () => new Date(),
  newId = randomUUID,
  random = Math.random,
}: SimulatorDeps = {}): ProviderSimulator {
  const sms = createSmsGateway({ now, newId });
  const loyalty = createLoyaltyLedger({ now });
  const faults = createFaultInjector(random);
  let rejectedByFault = 0;
  let abortedByClient = 0;
  return {
    sms,
    loyalty,
    faults,
    recordFaultRejection: () => {
      rejectedByFault += 1;
    },
    recordClientAbort: () => {
      abortedByClient += 1;
    },
    stats: () => ({
      ...loyalty.counts(),
      rejected_by_fault: rejectedByFault,
      aborted_by_client: abortedByClient,
      sms_sent: sms.count(),
    }),
    reset() {
      sms.reset();
      loyalty.reset();
      faults.reset();
      rejectedByFault = 0;
      abortedByClient = 0;
    },
  };
}
