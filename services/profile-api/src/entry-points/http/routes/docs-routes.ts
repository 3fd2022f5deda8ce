import { Router } from 'express';
import getSwaggerUiPath from 'swagger-ui-dist/absolute-path.js';
import openapi from '../../../openapi/openapi.json' with { type: 'json' };

/** Swagger UI's files, served from the installed package: the page works without a CDN or network. */
const ASSETS = { 'swagger-ui.css': 'text/css', 'swagger-ui-bundle.js': 'text/javascript' } as const;

// helmet's default policy upgrades requests to https, which would break the page on plain http;
// Swagger UI needs inline styles and data: images, nothing else from outside this origin.
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
].join('; ');

// The empty data: icon spares the browser a /favicon.ico request (a 404).
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Profile API reference</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// A file, not an inline script, so the policy needs no 'unsafe-inline' for scripts. validatorUrl:
// null keeps the page from calling swagger.io's validator.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

/** The API description (/openapi.json) and a reference page rendering it (/docs). */
export function docsRoutes(): Router {
  const router = Router();
  const assetsDir = getSwaggerUiPath();

  router.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  router.get('/docs', (_req, res) => {
    res.set('Content-Security-Policy', DOCS_CSP).type('html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('text/javascript').send(INIT);
  });
  for (const [file, type] of Object.entries(ASSETS)) {
    router.get(`/docs/${file}`, (_req, res) => {
      // `root` rather than an absolute path: send refuses paths through dot folders (pnpm's .pnpm).
      res.type(type).sendFile(file, { root: assetsDir, maxAge: '1d' });
    });
  }
  return router;
}
