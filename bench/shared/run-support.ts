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
