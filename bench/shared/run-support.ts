/** Pieces both benchmarks' run scripts need: undoing what a run started, and small helpers. */

/** Undo steps, run last-in first-out, once, whatever stops the run; each may take `stepTimeoutMs`. */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;
  private readonly stepTimeoutMs: number;

  constructor(stepTimeoutMs = 30_000) {
    this.stepTimeoutMs = stepTimeoutMs;
  }

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            step.run(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('timed out')), this.stepTimeoutMs);
            }),
          ]);
        } catch (error) {
          console.error(`cleanup: ${step.name} failed: ${String(error)}`);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.running;
  }
}

export function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** The same server, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Runs a benchmark's main with its cleanup guaranteed: on success, failure, Ctrl-C, SIGTERM or
 * past `timeoutS`, everything the run started is stopped, then the process exits (a client still
 * reconnecting to a service that went away must not keep it alive).
 */
export async function runBench(
  name: string,
  timeoutS: number,
  main: (cleanup: Cleanup) => Promise<void>,
  onAbort: () => void = () => undefined,
): Promise<never> {
  // The settings testcontainers needs on this machine (as scripts/test.sh sets them); the run's
  // own cleanup removes what it started, so no reaper container is needed.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

  const cleanup = new Cleanup();
  const abort = (reason: string, code: number) => {
    console.error(`\n${name}: ${reason}; stopping everything it started`);
    onAbort();
    void cleanup.run().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));
  const deadline = setTimeout(() => abort(`over BENCH_TIMEOUT_S=${timeoutS}`, 1), timeoutS * 1000);
  deadline.unref();

  try {
    await main(cleanup);
  } catch (error) {
    console.error(
      `${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 1;
  } finally {
    await cleanup.run();
    clearTimeout(deadline);
  }
  process.exit(process.exitCode ?? 0);
}
