// Shared jest settings: ESM, ts-jest transpiling per file (types are checked by `tsc -p tsconfig.check.json`),
// workspace libraries resolved to their sources.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Test tiers, by file name: unit specs need no infrastructure and run first; integration
 * specs use the real PostgreSQL, Redis and NATS; end-to-end specs run the services as
 * processes. TEST_TIER=unit|int|e2e selects one (tools/test.mjs); unset runs all.
 */
const TIERS = {
  unit: ['<rootDir>/**/*.spec.ts'],
  int: ['<rootDir>/**/*.int-spec.ts'],
  e2e: ['<rootDir>/**/*.e2e-spec.ts'],
  all: ['<rootDir>/**/*.spec.ts', '<rootDir>/**/*.int-spec.ts', '<rootDir>/**/*.e2e-spec.ts'],
};
if (!TIERS[process.env.TEST_TIER ?? 'all']) {
  throw new Error(`TEST_TIER must be one of unit, int, e2e (got ${process.env.TEST_TIER})`);
}

/** @param {string} dir project folder relative to the repo root */
export function jestConfig(dir) {
  return {
    displayName: dir,
    rootDir: `${root}${dir}`,
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    moduleNameMapper: {
      '^@tenantry/(contracts|messaging|persistence|runtime|launcher|policy-engine|policy-client|audit-ledger|testing)$': `${root}libs/$1/src/index.ts`,
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    transform: {
      '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: `${root}tsconfig.spec.json` }],
    },
    testMatch: TIERS[process.env.TEST_TIER ?? 'all'],
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    testTimeout: 60_000,
  };
}
