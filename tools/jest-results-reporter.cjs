// Writes each jest run's counts to tmp/test-results/<project>.json so `npm test` can print one total.
const fs = require('node:fs');
const path = require('node:path');

class ResultsReporter {
  constructor(globalConfig) {
    this.rootDir = path.resolve(__dirname, '..');
    const project = path.relative(this.rootDir, globalConfig.rootDir || this.rootDir) || 'all';
    this.name = `${process.env.TEST_TIER ?? 'all'}-${project.replace(/[\\/]/g, '-')}`;
  }

  onRunComplete(_contexts, results) {
    const dir = path.join(this.rootDir, 'tmp', 'test-results');
    fs.mkdirSync(dir, { recursive: true });
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    fs.writeFileSync(path.join(dir, `${this.name}.json`), JSON.stringify(summary));
  }
}

module.exports = ResultsReporter;
