import express, { type Router } from 'express';
import { Gauge, createMetricsRegistry } from '@app/service-kit';
import { faultPatchSchema } from '../../domain/schemas.ts';
import type { ProviderSimulator } from '../../domain/simulator.ts';
import { validate } from './validation.ts';

/** Health, fault knobs, reset and stats: never faulted, so tests can always steer the simulator. */
export function controlRoutes(sim: ProviderSimulator, jsonBody: express.RequestHandler): Router {
  const router = express.Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Nothing behind it to wait for: ready as soon as it listens.
  router.get('/readyz', (_req, res) => {
    res.json({ status: 'ready', checks: {} });
  });

  const metrics = createMetricsRegistry('provider-sim');
  new Gauge({
    name: 'provider_sim_stats',
    help: 'The simulator counters of /stats (applied, replayed, rejected_by_fault, sms_sent, ...)',
    labelNames: ['stat'] as const,
    registers: [metrics],
    collect() {
      for (const [stat, value] of Object.entries(sim.stats())) {
        if (typeof value === 'number') this.set({ stat }, value);
      }
    },
  });
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.contentType).send(await metrics.metrics());
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
