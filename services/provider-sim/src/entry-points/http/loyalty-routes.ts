import { AppError } from '@app/service-kit';
import express, { type RequestHandler, type Router } from 'express';
import { customerPayloadSchema, IDEMPOTENCY_KEY_MAX_LENGTH } from '../../domain/schemas.ts';
import type { ProviderSimulator } from '../../domain/simulator.ts';
import { clientGone, faultGate } from './fault-gate.ts';
import { badRequest, validate } from './validation.ts';

const BEARER = /^Bearer[ \t]+(\S.*)$/i;

function unauthorized(detail: string): AppError {
  return new AppError('unauthorized', detail, {
    status: 401,
    body: { detail },
    headers: { 'WWW-Authenticate': 'Bearer' },
  });
}

/** Any non-empty bearer key is accepted unless the simulator was given the one key to expect. */
function requireApiKey(expectedKey: string | undefined): RequestHandler {
  return (req, _res, next) => {
    const header = req.get('authorization')?.trim();
    if (!header) throw unauthorized('Authentication credentials were not provided.');
    const match = BEARER.exec(header);
    const key = match?.[1]?.trim();
    if (!key) throw unauthorized("Authorization header must be 'Bearer <key>'.");
    if (expectedKey !== undefined && key !== expectedKey) throw unauthorized('Invalid API key.');
    next();
  };
}

const requireIdempotencyKey: RequestHandler = (req, res, next) => {
  const key = req.get('idempotency-key')?.trim();
  if (!key) throw badRequest('Idempotency-Key header is required.');
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw badRequest(`Idempotency-Key header must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters.`);
  }
  res.locals.idempotencyKey = key;
  next();
};

export interface LoyaltyRouteOptions {
  apiKey: string | undefined;
}

/** The simulated loyalty card API: PUT is a provider call (faultable), GET is for tests. */
export function loyaltyRoutes(
  sim: ProviderSimulator,
  jsonBody: RequestHandler,
  { apiKey }: LoyaltyRouteOptions,
): Router {
  const router = express.Router();

  router.put(
    '/customers/:id',
    faultGate(sim),
    requireApiKey(apiKey),
    requireIdempotencyKey,
    jsonBody,
    (req, res) => {
      const payload = validate(customerPayloadSchema, req.body);
      if (clientGone(req, res)) return;
      const id = req.params.id as string;
      const outcome = sim.loyalty.apply(id, res.locals.idempotencyKey as string, payload);
      switch (outcome.kind) {
        case 'applied':
          res.json({ id, applied: true });
          return;
        case 'replayed':
          res.json({ id, applied: false, replayed: true });
          return;
        case 'key-conflict': {
          const detail = 'Idempotency-Key was already used for another customer.';
          throw new AppError('idempotency-key-conflict', detail, { status: 422, body: { detail } });
        }
      }
    },
  );

  router.get('/customers/:id', (req, res) => {
    const customer = sim.loyalty.get(req.params.id);
    if (!customer) {
      res.status(404).json({ detail: 'Not found.' });
      return;
    }
    res.json(customer);
  });

  return router;
}
