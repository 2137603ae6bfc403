/** Unit tests: `*.spec.ts` beside the code, no database. */
const path = require('node:path');
const { TS_JEST } = require('./test/setup/ts-jest-options');

module.exports = {
  displayName: 'unit',
  rootDir: 'src',
  testRegex: '\\.spec\\.ts$',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': ['ts-jest', TS_JEST] },
  testEnvironment: 'node',
  reporters: ['default', path.join(__dirname, 'test/setup/summary-reporter.js')],
};
