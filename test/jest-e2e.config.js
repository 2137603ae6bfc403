/**
 * e2e tests over HTTP against a real MongoDB-wire server, once per tenancy mode. Global set-up
 * starts a local server when MONGODB_URI is unset.
 */
const path = require('node:path');
const { TS_JEST } = require('./setup/ts-jest-options');

const project = (mode) => ({
  displayName: `e2e:${mode}`,
  rootDir: path.join(__dirname, '..'),
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { ...TS_JEST, astTransformers: { before: ['<rootDir>/test/setup/swagger-transformer.js'] } }],
  },
  testEnvironment: 'node',
  setupFiles: [`<rootDir>/test/setup/${mode}-mode.js`],
});

module.exports = {
  projects: [project('collection'), project('database')],
  globalSetup: path.join(__dirname, 'setup/global-setup.js'),
  globalTeardown: path.join(__dirname, 'setup/global-teardown.js'),
  testTimeout: 60_000,
  reporters: ['default', path.join(__dirname, 'setup/summary-reporter.js')],
};
