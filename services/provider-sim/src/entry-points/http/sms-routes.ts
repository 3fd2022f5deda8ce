import express, { type Router } from 'express';
import { smsListQuerySchema, smsRequestSchema } from '../../domain/schemas.ts';
import type { ProviderSimulator } from '../../domain/simulator.ts';
import { normalizePhoneQuery } from '../../domain/sms-gateway.ts';
import { clientGone, faultGate } from './fault-gate.ts';
import { fieldError, validate } from './validation.ts';

/** The simulated SMS gateway: POST is a provider call (faultable), the listing is for tests. */
export function smsRoutes(sim: ProviderSimulator, jsonBody: express.RequestHandler): Router {
  const router = express.Router();

  router.post('/sms', faultGate(sim), jsonBody, (req, res) => {
    const { to, text } = validate(smsRequestSchema, req.body);
    if (clientGone(req, res)) return;
    const record = sim.sms.send(to, text);
    res.status(202).json({ id: record.id, status: 'queued' });
  });

  router.get('/sms/messages', (req, res) => {
    const raw = req.query.to;
    if (raw === undefined) {
      res.json({ messages: sim.sms.list() });
      return;
    }
    if (typeof raw !== 'string') throw fieldError('to', 'to must be given once, as one phone number');
    const { to } = validate(smsListQuerySchema, { to: normalizePhoneQuery(raw) });
    res.json({ messages: sim.sms.list(to) });
  });

  return router;
}
