// Preload: `node --import @app/telemetry/register <entry>`. It must run before the entry's imports
// are loaded, which is why it is a flag and not an import: ESM loads a module's whole import graph
// before running any of it. Without OTEL_* exporter settings it does nothing and loads nothing more.
import { telemetryEnabled } from './env.ts';

if (telemetryEnabled(process.env)) {
  const { startTracing } = await import('./sdk.ts');
  await startTracing(process.env);
}
