// Shared jest settings: ESM, ts-jest transpiling per file (types are checked by `tsc -p tsconfig.check.json`),
// workspace libraries resolved to their sources.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** @param {string} dir project folder relative to the repo root */
export function jestConfig(dir) {
  return {
    displayName: dir,
    rootDir: `${root}${dir}`,
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    moduleNameMapper: {
      '^@tenantry/(contracts|messaging|persistence|runtime|testing)$': `${root}libs/$1/src/index.ts`,
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    transform: {
      '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: `${root}tsconfig.spec.json` }],
    },
    testMatch: [
      '<rootDir>/**/*.spec.ts',
      '<rootDir>/**/*.int-spec.ts',
      '<rootDir>/**/*.e2e-spec.ts',
    ],
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    testTimeout: 60_000,
    reporters: ['default', `${root}tools/jest-results-reporter.cjs`],
  };
}
