import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { FaultFailure } from '../../domain/faults.ts';
import type { ProviderSimulator } from '../../domain/simulator.ts';

/** True when the client disconnected: its request must not be applied any more. */
export function clientGone(req: Request, res: Response): boolean {
  return res.closed || req.socket.destroyed;
}

function answerFault(res: Response, failure: FaultFailure): void {
  const detail =
    failure.reason === 'down' ? 'Simulated fault: provider is down.' : 'Simulated fault: provider error.';
  res.status(failure.status).set('X-Simulated-Fault', failure.reason).json({ detail });
}

/**
 * Put in front of every provider route (never the control routes). `down` refuses at once;
 * otherwise the answer waits `latency_ms`, then either fails (error_rate) or goes on to the
 * handler. A client that disconnects during the wait is not applied.
 */
export function faultGate(sim: ProviderSimulator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const verdict = sim.faults.decide();
    const proceed = () => {
      if (verdict.failWith) {
        sim.recordFaultRejection();
        answerFault(res, verdict.failWith);
      } else {
        next();
      }
    };
    if (verdict.delayMs === 0) {
      proceed();
      return;
    }
    const onClose = () => {
      clearTimeout(timer);
      sim.recordClientAbort();
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      if (clientGone(req, res)) {
        sim.recordClientAbort();
        return;
      }
      proceed();
    }, verdict.delayMs);
    res.once('close', onClose);
  };
}
