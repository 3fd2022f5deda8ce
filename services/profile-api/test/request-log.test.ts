import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLogger } from '@app/service-kit';
import { requestLog } from '../src/entry-points/http/middlewares/request-log.ts';

/** An app behind requestLog whose log lines are collected; `level` is the logger's. */
async function loggedApp(level: string) {
  const lines: Record<string, unknown>[] = [];
  // Each line the logger would write, as its level and fields (nothing is written).
  const logger = createLogger('request-log-test', {
    level,
    hooks: {
      logMethod(args, _write, lineLevel) {
        lines.push({ level: lineLevel, ...(args[0] as object) });
      },
    },
  });
  const app = express();
  app.use(requestLog(logger, { quietPaths: new Set(['/healthz']) }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/fine', (_req, res) => {
    res.json({});
  });
  app.get('/broken', (req, res) => {
    res.status(500).json({ id: req.id });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string) => (await fetch(`${base}${path}`)).json() as Promise<unknown>;
  return { lines, get, close: () => server.close() };
}

describe('request log', () => {
  test('when requests finish at level info, then each but the probe gets one line with its id, route and status', async () => {
    const app = await loggedApp('info');
    try {
      await app.get('/healthz');
      await app.get('/fine?x=1');
      const broken = (await app.get('/broken')) as { id: string };

      expect(app.lines.map((line) => [line.level, line.req, line.res])).toEqual([
        [30, { id: expect.any(String), method: 'GET', url: '/fine?x=1' }, { statusCode: 200 }],
        [50, { id: broken.id, method: 'GET', url: '/broken' }, { statusCode: 500 }],
      ]);
    } finally {
      app.close();
    }
  });

  test('when the level is warn, then only server errors are logged', async () => {
    const app = await loggedApp('warn');
    try {
      await app.get('/fine');
      await app.get('/broken');

      expect(app.lines.map((line) => line.res)).toEqual([{ statusCode: 500 }]);
    } finally {
      app.close();
    }
  });
});
