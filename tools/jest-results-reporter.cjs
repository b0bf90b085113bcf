// Writes each jest run's counts to tmp/test-results/<project>.json so `npm test` can print one total.
const fs = require('node:fs');
const path = require('node:path');

class ResultsReporter {
  constructor(globalConfig) {
    this.rootDir = path.resolve(__dirname, '..');
    this.name = (globalConfig.rootDir || 'tests')
      .replace(this.rootDir + path.sep, '')
      .replace(/[\\/]/g, '-');
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
