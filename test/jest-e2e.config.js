/**
 * e2e tests over HTTP against a real MongoDB-wire server, once per tenancy mode. Global set-up
 * starts a local server when MONGODB_URI is unset.
 */
const path = require('node:path');
const { TS_JEST } = require('./setup/ts-jest-options');

const project = (mode, ignored = []) => ({
  displayName: `e2e:${mode}`,
  rootDir: path.join(__dirname, '..'),
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...ignored],
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { ...TS_JEST, astTransformers: { before: ['<rootDir>/test/setup/swagger-transformer.js'] } },
    ],
  },
  testEnvironment: 'node',
  // Read by mode() in test/support/test-app.ts; each app is given its TENANCY_MODE explicitly.
  globals: { TENANCY_MODE: mode },
});

/**
 * Suites that never reach tenant storage run once, in collection mode: what npm start prints, the
 * HTTP contract, the OpenAPI document, Swagger's headers, logins and tokens, slow clients, the rate
 * limits and a stopped database do not depend on where an organization's data lives.
 */
const MODE_INDEPENDENT = ['start-up', 'contract', 'docs', 'first-run', 'auth', 'slow-clients', 'throttling', 'outage'];

module.exports = {
  projects: [
    project('collection'),
    project(
      'database',
      MODE_INDEPENDENT.map((name) => `/test/${name}\\.e2e-spec\\.ts$`),
    ),
  ],
  globalSetup: path.join(__dirname, 'setup/global-setup.js'),
  globalTeardown: path.join(__dirname, 'setup/global-teardown.js'),
  testTimeout: 60_000,
  // Two suites at a time: most of a suite's time is spent waiting (leases, reservations, timeouts),
  // so on two cores this halves the run. Each suite has its own databases, apps and ports.
  maxWorkers: 2,
  reporters: ['default', path.join(__dirname, 'setup/summary-reporter.js')],
};
