/** Unit tests: `*.spec.ts` beside the code, no database. */
module.exports = {
  displayName: 'unit',
  rootDir: 'src',
  testRegex: '\\.spec\\.ts$',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
};
