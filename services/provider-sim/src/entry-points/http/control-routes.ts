import express, { type Router } from 'express';
import { faultPatchSchema } from '../../domain/schemas.ts';
import type { ProviderSimulator } from '../../domain/simulator.ts';
import { validate } from './validation.ts';

/** Health, fault knobs, reset and stats: never faulted, so tests can always steer the simulator. */
export function controlRoutes(sim: ProviderSimulator, jsonBody: express.RequestHandler): Router {
  const router = express.Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/_faults', (_req, res) => {
    res.json(sim.faults.knobs());
  });

  router.put('/_faults', jsonBody, (req, res) => {
    const patch = validate(faultPatchSchema, req.body);
    res.json(sim.faults.update(patch));
  });

  router.delete('/_faults', (_req, res) => {
    res.json(sim.faults.reset());
  });

  router.post('/_reset', (_req, res) => {
    sim.reset();
    res.json({ status: 'ok' });
  });

  router.get('/stats', (_req, res) => {
    res.json(sim.stats());
  });

  return router;
}
