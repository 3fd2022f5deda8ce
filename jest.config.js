// Two projects: unit tests run anywhere in seconds; integration tests get real containers
// from the testkit once per run (globalSetup) and share them through a state file.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'commonjs' },
  },
];

const shared = {
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@app/(profile-api|loyalty-sync|provider-sim)$': '<rootDir>/services/$1/src/start.ts',
    '^@app/([^/]+)$': '<rootDir>/packages/$1/src/index.ts',
  },
  testEnvironment: 'node',
};

export default {
  // A global option (ignored inside a project): integration hooks start and stop real services.
  testTimeout: 60_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services}/*/test/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/**/*.test.ts'],
      // Minutes of wall time on a compose stack of their own: projects of their own, run on purpose.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/rebalance/', '<rootDir>/tests/ha/'],
      globalSetup: '<rootDir>/tests/support/global-setup.ts',
      globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
      slowTestThreshold: 30,
    },
    {
      // loyalty-sync scaled 3 → 6 → 3 under load on the compose stack (`pnpm test:rebalance`).
      // No globalSetup: it starts the stack itself and needs none of the shared containers.
      ...shared,
      displayName: 'rebalance',
      testMatch: ['<rootDir>/tests/rebalance/**/*.test.ts'],
    },
    {
      ...shared,
      // docker-compose.ha.yml under faults (tests/ha): its own compose stack, no testkit containers.
      displayName: 'ha',
      testMatch: ['<rootDir>/tests/ha/**/*.test.ts'],
      slowTestThreshold: 120,
    },
  ],
};
