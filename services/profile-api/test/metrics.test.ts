import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from '@app/service-kit';
import { httpMetrics, metricsEndpoint } from '../src/entry-points/http/middlewares/metrics.ts';

describe('HTTP metrics', () => {
  it('labels requests with the route pattern, never the raw URL', async () => {
    const registry = new Registry();
    const app = express();
    app.use(httpMetrics(registry));
    app.get('/admin/settings/:key', (_req, res) => {
      res.json({});
    });
    const router = express.Router();
    router.get('/avatars/:file', (_req, res) => {
      res.status(404).end();
    });
    app.use('/media', router);
    app.get('/metrics', metricsEndpoint(registry));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const path of ['/admin/settings/SOME_KEY', '/media/avatars/abc.png', '/no/such/path/123']) {
        await (await fetch(`${base}${path}`)).arrayBuffer();
      }
      const text = await (await fetch(`${base}/metrics`)).text();
      const counts = text
        .split('\n')
        .filter((line) => line.startsWith('http_request_duration_seconds_count'));
      expect(counts).toEqual([
        'http_request_duration_seconds_count{method="GET",route="/admin/settings/:key",status="200"} 1',
        'http_request_duration_seconds_count{method="GET",route="/media/avatars/:file",status="404"} 1',
        'http_request_duration_seconds_count{method="GET",route="(unmatched)",status="404"} 1',
      ]);
      expect(text).not.toContain('SOME_KEY');
    } finally {
      server.close();
    }
  });
});
