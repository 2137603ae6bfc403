// Ends every Jest run with one plain "N passed, N failed" line, and adds the counts to
// TEST_SUMMARY_FILE when set, so that .ci/run can close with the total of all runs.
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped } = results;
    console.log(`jest: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
    if (process.env.TEST_SUMMARY_FILE) {
      appendFileSync(process.env.TEST_SUMMARY_FILE, `${passed} ${failed} ${skipped}\n`);
    }
  }
}

module.exports = SummaryReporter;
