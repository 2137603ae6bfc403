// Runs the @nestjs/swagger CLI plugin under ts-jest with nest-cli.json's options, so that tests see
// the same OpenAPI document as the build.
const plugin = require('@nestjs/swagger/plugin');
const nestCli = require('../../nest-cli.json');

const { options } = nestCli.compilerOptions.plugins.find((entry) => entry.name === '@nestjs/swagger');

module.exports.name = 'nestjs-swagger-transformer';
module.exports.version = 1;
module.exports.factory = (compiler) => plugin.before(options, compiler.program);
