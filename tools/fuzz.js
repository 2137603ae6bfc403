#!/usr/bin/env node
'use strict';
/**
 * `npm run fuzz`: Schemathesis drives every operation of /docs-json against the built service on a
 * local database, without a token, with an organization's first admin's, an admin member's, a plain
 * member's and a superadmin's: every phase (examples, coverage, fuzzing, and the stateful phase along
 * the document's links) and every check, with the few narrow exceptions of FUZZ_CONFIG below. Each
 * identity meets the same fixture organization, whose ids the fuzzer also draws (see fixtureConfig).
 * It closes with the number of requests made, and fails on any failure or when fewer than
 * FUZZ_MIN_REQUESTS requests were made.
 *
 *   FUZZ_MAX_EXAMPLES=100 npm run fuzz     (test cases per operation and phase; default 100)
 *   FUZZ_MIN_REQUESTS=2000 npm run fuzz    (default 3000)
 */
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { createInterface } = require('node:readline');
const { startAppProcess } = require('./app-process');
const { startLocalMongo } = require('./local-mongo');

const ROOT = path.join(__dirname, '..');
const VENV = path.join(ROOT, '.venv-fuzz');
const SCHEMATHESIS = path.join(VENV, 'bin', 'schemathesis');
const SCHEMATHESIS_VERSION = '4.32.5';
const PHASES = 'examples,coverage,fuzzing,stateful';
const FUZZ_CONCURRENCY = 2;
/**
 * schemathesis.toml: the exceptions to "every check, everywhere", each as narrow as it can be, with
 * its reason. Everything else runs with Schemathesis's defaults.
 */
const FUZZ_CONFIG = `
# A body over BODY_LIMIT_BYTES is refused with 413 before validation: a rejection like 400.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

# Fastify answers a QUERY request without a Content-Type with 400 before routing (RFC 10008 wants
# the request refused), so the 405 that every other undeclared method gets never comes (the problem
# details filter makes 405s of the router's 404s only). The other methods are still sent everywhere.
[phases.coverage]
unexpected-methods = ["get", "put", "post", "delete", "options", "patch", "trace"]

# The name may come in the query or in the body: OpenAPI cannot say that one of the two is required,
# nor that both, when given, must name the same organization. The server answers 400 then.
[[operations]]
include-path = "/org/delete"
include-method = "DELETE"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# A password is at most 72 bytes in UTF-8 (bcrypt reads no further); JSON Schema's maxLength counts
# characters. With ASCII strings the two agree, so that the checks hold the server to the document.
[[operations]]
include-path = [
  "/org/create",
  "/org/update",
  "/api/v1/organizations",
  "/api/v1/organizations/{organization_id}",
  "/org/members",
  "/org/members/{member_id}",
  "/api/v1/organizations/{organization_id}/members",
  "/api/v1/organizations/{organization_id}/members/{member_id}",
  "/auth/password",
  "/api/v1/auth/password",
]
generation.codec = "ascii"
`;
/**
 * Only for the superadmin, whose token names no organization: /org/members and /org/audit then need
 * ?organization_name=, which OpenAPI cannot make required for one caller and optional for the rest
 * (an organization's admins default to their own). The server answers 400 without it.
 */
const SUPERADMIN_CONFIG = `
[[operations]]
include-path-regex = "^/org/(members|audit)"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
`;
const PYTEST_STYLE_FOOTER = /^=+ .* in [\d.]+s =+$/;
const SUPERADMIN = { email: 'fuzz-root@example.com', password: 'FuzzRootPassword1!' };
const ADMIN = { email: 'fuzz-admin@example.com', password: 'FuzzAdminPassword1!' };
const ORGANIZATION = 'Fuzz Org';
/** Added by the fixture organization's admin with POST /org/members; they log in with POST /auth/login. */
const MEMBERS = {
  adminMember: { email: 'fuzz-admin-member@example.com', password: 'FuzzAdminMember1!', role: 'admin' },
  member: { email: 'fuzz-member@example.com', password: 'FuzzMemberPassword1!', role: 'member' },
  // Nobody's token: a member the others can read, change and remove.
  bystander: { email: 'fuzz-bystander@example.com', password: 'FuzzBystander1!', role: 'member' },
};

async function main() {
  const minimum = Number(process.env.FUZZ_MIN_REQUESTS ?? 3000);
  if (!Number.isInteger(minimum)) {
    throw new Error(`FUZZ_MIN_REQUESTS must be a whole number, not "${process.env.FUZZ_MIN_REQUESTS}"`);
  }
  ensureSchemathesis();
  const database = await startLocalMongo({ memory: true });
  let failed = false;
  let requests = 0;
  try {
    // Each identity's token, and its own id (which the fuzzer is not given: changing or removing
    // oneself would revoke the token that the rest of the run needs).
    const identities = [
      ['anonymous', async () => ({})],
      ['organization admin', async (base, fixture) => fixture.owner],
      ['admin member', async (base, fixture) => fixture.adminMember],
      ['member', async (base, fixture) => fixture.member],
      ['superadmin', async (base) => ({ token: await login(base, SUPERADMIN) })],
    ];
    const reports = mkdtempSync(path.join(tmpdir(), 'fuzz-'));
    const fuzzIdentity = async ([who, identityIn]) => {
      const slug = who.replace(/ /g, '-');
      // An app and master database of its own: what one identity created cannot stand in the way
      // (409) of the next one's creates, which the stateful phase needs to follow its links.
      const app = await startApp(database.uri, `fuzz_${slug.replace(/-/g, '_')}`);
      try {
        const fixture = await createFixture(app.url);
        const { token, id } = await identityIn(app.url, fixture);
        const config = path.join(reports, `${slug}.toml`);
        const extra = who === 'superadmin' ? SUPERADMIN_CONFIG : '';
        writeFileSync(config, FUZZ_CONFIG + extra + fixtureConfig(fixture, id));
        const har = path.join(reports, `${slug}.har`);
        const { status, output } = await runSchemathesis(app.url, token, config, har);
        const made = JSON.parse(readFileSync(har, 'utf8')).log.entries.length;
        requests += made;
        console.log(`${output}\nfuzz (${who}): ${made} requests, ${status === 0 ? 'no failures' : 'FAILURES above'}`);
        failed ||= status !== 0;
      } finally {
        await app.stop();
      }
    };
    // Two identities at a time: each run waits on the app as much as it computes.
    const queue = [...identities];
    const next = async () => {
      for (let identity = queue.shift(); identity; identity = queue.shift()) {
        await fuzzIdentity(identity);
      }
    };
    // Both run to their end (their apps stopped) before the database goes, even when one fails.
    const ends = await Promise.allSettled(Array.from({ length: FUZZ_CONCURRENCY }, next));
    const failure = ends.find((end) => end.status === 'rejected');
    if (failure) {
      throw failure.reason;
    }
  } finally {
    await database.stop();
  }
  if (requests < minimum) {
    console.log(`fuzz: fewer requests than FUZZ_MIN_REQUESTS=${minimum}`);
    failed = true;
  }
  console.log(`fuzz: ${requests} requests, ${failed ? 'failures found (see above)' : '0 failures'}`);
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
function startApp(mongoUri, masterDatabase) {
  return startAppProcess(
    {
      NODE_ENV: 'test',
      MONGODB_URI: mongoUri,
      MASTER_DB_NAME: masterDatabase,
      LOG_LEVEL: 'error',
      BCRYPT_COST: '10',
      // Let the fuzzer reach past the login and create limits, which the e2e suite covers on its own.
      LOGIN_RATE_LIMIT: '1000000',
      LOGIN_FAILURE_CEILING: '1000000',
      CREATE_RATE_LIMIT: '1000000',
      CREATE_GLOBAL_RATE_LIMIT: '1000000',
      // A name given up stays reserved (409) for about 11 s rather than about 45 s, as in the e2e
      // suite: the stateful phase draws the same few names again, and needs its creates to succeed.
      TENANT_HANDLE_TTL_MS: '1000',
      DB_SOCKET_TIMEOUT_MS: '3000',
      SUPERADMIN_EMAIL: SUPERADMIN.email,
      SUPERADMIN_PASSWORD: SUPERADMIN.password,
    },
    { echo: true },
  );
}

function runSchemathesis(base, token, config, harPath) {
  const examples = process.env.FUZZ_MAX_EXAMPLES ?? '100';
  const args = ['--config-file', config, 'run', `${base}/docs-json`, '--checks', 'all', '--phases', PHASES];
  // One worker: with several, the threads of CPython 3.11.7 (before 3.11.8) can break Hypothesis on
  // a spurious "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905).
  args.push('--max-examples', examples, '--workers', '1');
  args.push('--report', 'har', '--report-har-path', harPath, '--no-color', '--seed', '1');
  if (token) {
    args.push('--header', `Authorization: Bearer ${token}`);
  }
  // Asynchronous, so that this process keeps draining the database server's output meanwhile; its
  // report is kept whole, to be printed in one piece beside the other identity's.
  const fuzzer = spawn(SCHEMATHESIS, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  createInterface({ input: fuzzer.stdout }).on('line', (line) => {
    // Schemathesis closes with a pytest-style "=== 1 warning in 7.06s ===" line, which log readers
    // take for a pytest run that executed no test; the same facts are in its summary above it.
    if (!PYTEST_STYLE_FOOTER.test(line)) lines.push(line);
  });
  return new Promise((resolve) =>
    fuzzer.once('close', (code) => resolve({ status: code ?? 1, output: lines.join('\n') })),
  );
}

/**
 * The organization every identity meets: its first admin and three members, each `{token, id}`
 * (the bystander's token unused), and the organization's id.
 */
async function createFixture(base) {
  const created = await expectOk(
    await post(base, '/org/create', { organization_name: ORGANIZATION, ...ADMIN }),
    'create the fixture organization',
  );
  const organizationId = created.data.organization_id;
  const owner = { token: await login(base, ADMIN), id: created.data.admin_id };
  const fixture = { organizationId, owner };
  for (const [key, { email, password, role }] of Object.entries(MEMBERS)) {
    const added = await expectOk(
      await post(base, '/org/members', { email, password, role }, owner.token),
      `add the member ${email}`,
    );
    const token = await login(base, { email, password, organization: ORGANIZATION }, '/auth/login');
    fixture[key] = { token, id: added.data.member_id };
  }
  return fixture;
}

/**
 * The fixture's ids, drawn half of the time where an operation takes them, so that the operations
 * addressed by id reach the organization and its members and not only a 404. Never the identity's
 * own id, nor on PATCH or DELETE /api/v1/organizations/{organization_id}: an identity that changed
 * its own credentials or deleted its organization would spend the rest of its run on 401s.
 */
function fixtureConfig(fixture, ownId) {
  const members = [fixture.owner, fixture.adminMember, fixture.member, fixture.bystander]
    .map(({ id }) => id)
    .filter((id) => id !== ownId);
  const organizationId = '"path.organization_id" = { dictionary = "fixture-organization", probability = 0.5 }';
  const memberId = '"path.member_id" = { dictionary = "fixture-members", probability = 0.5 }';
  const organizationName = '"query.organization_name" = { dictionary = "fixture-name", probability = 0.5 }';
  return `
[dictionaries.fixture-organization]
values = ["${fixture.organizationId}"]

[dictionaries.fixture-members]
values = [${members.map((id) => `"${id}"`).join(', ')}]

[dictionaries.fixture-name]
values = ["${ORGANIZATION}"]

[[operations]]
include-path-regex = '^/api/v1/organizations/\{organization_id\}/'
parameters = { ${organizationId}, ${memberId} }

[[operations]]
include-path = "/api/v1/organizations/{organization_id}"
include-method = "GET"
parameters = { ${organizationId} }

[[operations]]
include-path-regex = "^/org/(members|audit)"
parameters = { ${organizationName}, ${memberId} }
`;
}

async function login(base, credentials, pathName = '/admin/login') {
  const response = await post(base, pathName, credentials);
  if (!response.ok) {
    throw new Error(`login of ${credentials.email} failed: ${response.status}`);
  }
  return (await response.json()).access_token;
}

async function expectOk(response, what) {
  if (!response.ok) {
    throw new Error(`could not ${what}: ${response.status} ${await response.text()}`);
  }
  return response.json();
}

function post(base, pathName, body, token) {
  return fetch(`${base}${pathName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
