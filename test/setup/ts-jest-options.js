/**
 * ts-jest compiles with the project's tsconfig (NodeNext, emitting CommonJS). It warns that NodeNext
 * wants isolatedModules, but isolated compilation has no type checker, and the @nestjs/swagger plugin
 * needs one to read DTO types; the full compile works, so that one warning is silenced.
 */
module.exports = { TS_JEST: { diagnostics: { ignoreCodes: [151002] } } };
