#!/usr/bin/env node
'use strict';
/**
 * `npm run fuzz`: Schemathesis drives every operation of /docs-json against the built service on a
 * local database, without a token, with an organization admin's and with a superadmin's. It fails on
 * any 5xx, any response that does not match its documented schema, content type or headers, and
 * any undocumented status code, and closes with the number of requests made.
 *
 *   FUZZ_MAX_EXAMPLES=100 npm run fuzz     (test cases per operation and phase; default 50)
 *   FUZZ_MIN_REQUESTS=2000 npm run fuzz    (fail if fewer requests were made; default 0)
 */
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { createInterface } = require('node:readline');
const { startAppProcess } = require('./app-process');
const { startLocalMongo } = require('./local-mongo');

const ROOT = path.join(__dirname, '..');
const VENV = path.join(ROOT, '.venv-fuzz');
const SCHEMATHESIS = path.join(VENV, 'bin', 'schemathesis');
const SCHEMATHESIS_VERSION = '4.32.5';
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
].join(',');
const PYTEST_STYLE_FOOTER = /^=+ .* in [\d.]+s =+$/;
const SUPERADMIN = { email: 'fuzz-root@example.com', password: 'FuzzRootPassword1!' };
const ADMIN = { email: 'fuzz-admin@example.com', password: 'FuzzAdminPassword1!' };

async function main() {
  const minimum = Number(process.env.FUZZ_MIN_REQUESTS ?? 0);
  if (!Number.isInteger(minimum)) {
    throw new Error(`FUZZ_MIN_REQUESTS must be a whole number, not "${process.env.FUZZ_MIN_REQUESTS}"`);
  }
  ensureSchemathesis();
  const database = await startLocalMongo({ memory: true });
  let app;
  let failed = false;
  let requests = 0;
  try {
    app = await startApp(database.uri);
    const base = app.url;
    const identities = [
      ['anonymous', undefined],
      ['organization admin', await adminToken(base)],
      ['superadmin', await login(base, SUPERADMIN)],
    ];
    const reports = mkdtempSync(path.join(tmpdir(), 'fuzz-'));
    for (const [who, token] of identities) {
      const har = path.join(reports, `${who.replace(/ /g, '-')}.har`);
      const status = await runSchemathesis(base, token, har);
      const made = JSON.parse(readFileSync(har, 'utf8')).log.entries.length;
      requests += made;
      console.log(`fuzz (${who}): ${made} requests, ${status === 0 ? 'no failures' : 'FAILURES above'}`);
      failed ||= status !== 0;
    }
  } finally {
    await app?.stop();
    await database.stop();
  }
  if (requests < minimum) {
    console.log(`fuzz: fewer requests than FUZZ_MIN_REQUESTS=${minimum}`);
    failed = true;
  }
  console.log(
    `fuzz: ${requests} requests, ${failed ? 'failures found (see above)' : '0 server errors, 0 schema or status violations'}`,
  );
  process.exit(failed ? 1 : 0);
}

function ensureSchemathesis() {
  if (existsSync(SCHEMATHESIS)) {
    return;
  }
  run('python3', ['-m', 'venv', VENV]);
  run(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`]);
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed`);
  }
}

/** The built app on a free port, its log (errors only) shown as it comes. */
function startApp(mongoUri) {
  return startAppProcess(
    {
      NODE_ENV: 'test',
      MONGODB_URI: mongoUri,
      MASTER_DB_NAME: 'fuzz_master',
      LOG_LEVEL: 'error',
      BCRYPT_COST: '10',
      // Let the fuzzer reach past the login limit, which the e2e suite covers on its own.
      LOGIN_RATE_LIMIT: '1000000',
      SUPERADMIN_EMAIL: SUPERADMIN.email,
      SUPERADMIN_PASSWORD: SUPERADMIN.password,
    },
    { echo: true },
  );
}

function runSchemathesis(base, token, harPath) {
  const examples = process.env.FUZZ_MAX_EXAMPLES ?? '50';
  const args = ['run', `${base}/docs-json`, '--checks', CHECKS, '--max-examples', examples, '--workers', '2'];
  args.push('--report', 'har', '--report-har-path', harPath, '--no-color', '--seed', '1');
  if (token) {
    args.push('--header', `Authorization: Bearer ${token}`);
  }
  // Asynchronous, so that this process keeps draining the database server's output meanwhile.
  const fuzzer = spawn(SCHEMATHESIS, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: fuzzer.stdout }).on('line', (line) => {
    // Schemathesis closes with a pytest-style "=== 1 warning in 7.06s ===" line, which log readers
    // take for a pytest run that executed no test; the same facts are in its summary above it.
    if (!PYTEST_STYLE_FOOTER.test(line)) console.log(line);
  });
  return new Promise((resolve) => fuzzer.once('close', (code) => resolve(code ?? 1)));
}

async function adminToken(base) {
  await post(base, '/org/create', { organization_name: 'Fuzz Org', ...ADMIN });
  return login(base, ADMIN);
}

async function login(base, credentials) {
  const response = await post(base, '/admin/login', credentials);
  if (!response.ok) {
    throw new Error(`login of ${credentials.email} failed: ${response.status}`);
  }
  return (await response.json()).access_token;
}

function post(base, pathName, body) {
  return fetch(`${base}${pathName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
