/**
 * The stack suites (tests/e2e, tests/rebalance, tests/ha) run their steps in order on one compose
 * stack that takes minutes to start. Whether anything failed is what their afterAll needs: only then
 * are the stack's state and log tail printed before it is taken down, while it still exists. One
 * flag per suite, set by its setup and by every step.
 */
export interface SuiteSteps {
  /** True once the setup or a step has thrown. */
  readonly failed: boolean;
  /** A jest beforeAll whose failure marks the suite failed (the stack may be half up). */
  setUp(body: () => Promise<void>, timeoutMs: number): void;
  /** A jest test whose failure marks the suite failed. */
  step(name: string, body: () => Promise<void>, timeoutMs: number): void;
}

export function createSuiteSteps(): SuiteSteps {
  let failed = false;
  const guard = async (body: () => Promise<void>): Promise<void> => {
    try {
      await body();
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  return {
    get failed() {
      return failed;
    },
    setUp(body, timeoutMs) {
      beforeAll(() => guard(body), timeoutMs);
    },
    step(name, body, timeoutMs) {
      test(name, () => guard(body), timeoutMs);
    },
  };
}
