// Every project's tests in one jest run (tools/test.mjs runs it once per tier, TEST_TIER=unit|int|e2e).
// One project at a time: `npx nx test <project>` uses that project's own jest.config.js.
export default {
  projects: [
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/tools/jest.config.js',
  ],
  reporters: ['default', '<rootDir>/tools/jest-results-reporter.cjs'],
};
