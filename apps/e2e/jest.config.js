import { jestConfig } from '../../jest.preset.js';

// End-to-end suites start whole platforms as processes: one suite at a time on a 2-core machine.
export default { ...jestConfig('apps/e2e'), maxWorkers: 1, testTimeout: 180_000 };
