/**
 * e2e tests over HTTP against a real MongoDB-wire server, once per tenancy mode. Global set-up
 * starts a local server when MONGODB_URI is unset.
 */
const path = require('node:path');

const project = (mode) => ({
  displayName: `e2e:${mode}`,
  rootDir: path.join(__dirname, '..'),
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { astTransformers: { before: ['<rootDir>/test/setup/swagger-transformer.js'] } }],
    // @fastify/static (Swagger UI's assets) requires this ES module, which Node loads but Jest on Node 20 cannot.
    'node_modules/content-disposition/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
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
