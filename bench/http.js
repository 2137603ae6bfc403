#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: the built service against floors measured in the same run, on the same database
 * (a local MongoDB-wire server, or MONGODB_URI), in each tenancy mode. Floors (bench/floors.js, a
 * process of its own): (a) bare Fastify + the driver doing the read of GET /org/get, (a') the two
 * reads behind a token, (b) bare Fastify answering the same JSON from memory, and (c) raw
 * bcrypt.compare and bcrypt.hash at the same cost on the same thread pool. Each case runs a warm-up,
 * then is measured; it prints req/s, p50, p99, non-2xx and the ratio to its floor, and writes the
 * whole run as JSON to bench/results/.
 *
 *   npm run bench -- [--seconds 10] [--warmup 2] [--connections 50] [--workers 1] [--mode collection|database]
 */
const autocannon = require('autocannon');
const bcrypt = require('bcrypt');
const { randomBytes } = require('node:crypto');
const os = require('node:os');
const path = require('node:path');
const { startAppProcess } = require('../tools/app-process');
const {
  PASSWORD,
  benchOptions,
  runModes,
  measure: measureWith,
  summary,
  post,
  postJson,
  print,
  rssMiB,
} = require('./common');

const OPTIONS = benchOptions(process.argv.slice(2));
const { seconds: SECONDS, warmup: WARMUP, connections: CONNECTIONS, modes: MODES } = OPTIONS;
const BCRYPT_COST = 10;
/** The service's default: one core left to everything else (see BCRYPT_CONCURRENCY). */
const BCRYPT_CONCURRENCY = Math.max(1, os.availableParallelism() - 1);
/** Organizations the rename case cycles through, so that concurrent renames rarely meet. */
const RENAMED_ORGANIZATIONS = 100;
const MEMBERS = 20;

async function main() {
  const bcryptFloor = await bcryptFloors();
  printBcrypt(bcryptFloor);
  const settings = {
    seconds: SECONDS,
    warmup: WARMUP,
    connections: CONNECTIONS,
    workers: OPTIONS.workers,
    bcryptCost: BCRYPT_COST,
    bcryptConcurrency: BCRYPT_CONCURRENCY,
  };
  await runModes(MODES, { settings, bcrypt: bcryptFloor }, (uri, mode) => benchMode(uri, mode, bcryptFloor));
}

async function benchMode(uri, mode, bcryptFloor) {
  const masterDb = `bench_${mode}_${Date.now()}`;
  const env = { MONGODB_URI: uri, MASTER_DB_NAME: masterDb, TENANCY_MODE: mode };
  let app;
  let floors;
  try {
    app = await startAppProcess({
      ...env,
      // As deployed: production settings, request lines logged (to a pipe the bench drains).
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(32).toString('base64url'),
      BCRYPT_COST: String(BCRYPT_COST),
      BCRYPT_CONCURRENCY: String(BCRYPT_CONCURRENCY),
      WEB_CONCURRENCY: String(OPTIONS.workers),
      LOGIN_RATE_LIMIT: '100000000',
      LOGIN_FAILURE_CEILING: '100000000',
      CREATE_RATE_LIMIT: '100000000',
      CREATE_GLOBAL_RATE_LIMIT: '100000000',
      // As the Dockerfile runs it.
      MALLOC_ARENA_MAX: '2',
    });
    const seeded = await seed(app.url);
    floors = await startAppProcess(env, { script: path.join(__dirname, 'floors.js') });
    const bearer = { authorization: `Bearer ${seeded.token}` };
    const getOrg = '/org/get?organization_name=Bench%20Org';
    const me = `/admin/me?admin_id=${seeded.adminId}&organization_id=${seeded.organizationId}`;
    const floor = {
      b: await measure(floors.url, { path: '/health' }),
      a: await measure(floors.url, { path: getOrg }),
      "a'": await measure(floors.url, { path: me }),
      compare: { rps: bcryptFloor.compare },
      hash: { rps: bcryptFloor.hash },
    };
    const cases = [
      ['GET /health', { path: '/health' }, 'b'],
      ['GET /org/get (anonymous)', { path: getOrg }, 'a'],
      ['GET /org/get (owner token)', { path: getOrg, headers: bearer }, 'a'],
      ['GET /admin/me', { path: '/admin/me', headers: bearer }, "a'"],
      ['GET /org/members', { path: '/org/members', headers: bearer }, 'a'],
      ['POST /admin/login', postJson('/admin/login', { email: seeded.email, password: PASSWORD }), 'compare'],
      ['POST /org/create (unique names)', uniqueCreates(mode), 'hash'],
      ['PUT /org/update (rename)', renames(seeded.renamed), null],
    ];
    const results = [];
    console.log(`\nmode=${mode} connections=${CONNECTIONS} seconds=${SECONDS} (after ${WARMUP} s warm-up)`);
    printFloors(floor);
    for (const [name, request, floorName] of cases) {
      const result = await measure(app.url, request);
      const ratio = floorName ? result.rps / floor[floorName].rps : null;
      results.push({ name, ...result, floor: floorName, ratio });
      print(name, result, floorName, ratio);
    }
    const underLogins = await getWhileLoginsSaturate(app.url, getOrg, seeded);
    results.push(underLogins);
    print(underLogins.name, underLogins, null, null);
    if (app.child.exitCode !== null || app.child.signalCode !== null) {
      throw new Error(`the app stopped during the run:\n${app.output()}`);
    }
    const rss = rssMiB(app.pid);
    console.log(`app RSS after the run: ${rss} MiB`);
    return { floors: floor, cases: results, rssMiB: rss };
  } finally {
    await floors?.stop();
    await app?.stop();
  }
}

function measure(url, request) {
  return measureWith(url, request, OPTIONS);
}

/** GET /org/get at 10 connections while 50 others log in, keeping every bcrypt thread busy. */
async function getWhileLoginsSaturate(url, getOrg, seeded) {
  const login = postJson('/admin/login', { email: seeded.email, password: PASSWORD });
  const [, gets] = await Promise.all([
    autocannon({ url, connections: CONNECTIONS, duration: SECONDS, requests: [login] }),
    autocannon({ url, connections: 10, duration: SECONDS, requests: [{ path: getOrg }] }),
  ]);
  return { name: 'GET /org/get while logins saturate bcrypt', ...summary(gets), floor: null, ratio: null };
}

function uniqueCreates(mode) {
  let count = 0;
  const run = Date.now().toString(36);
  return {
    ...postJson('/org/create', {}),
    setupRequest: (request) => {
      count += 1;
      const body = {
        organization_name: `Bench ${mode} ${run} ${count}`,
        email: `bench-${run}-${count}@example.com`,
        password: PASSWORD,
      };
      return { ...request, body: JSON.stringify(body) };
    },
  };
}

/** Each request renames the next of the seeded organizations to a name not used before. */
function renames(organizations) {
  let count = 0;
  return {
    method: 'PUT',
    path: '/org/update',
    setupRequest: (request) => {
      const organization = organizations[count % organizations.length];
      count += 1;
      const newName = `Renamed ${count} ${Date.now().toString(36)}`;
      const body = { organization_name: organization.name, new_organization_name: newName };
      organization.name = newName;
      return {
        ...request,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${organization.token}` },
        body: JSON.stringify(body),
      };
    },
  };
}

async function seed(base) {
  const owner = await createOrganization(base, 'Bench Org', 'bench@example.com');
  for (let index = 0; index < MEMBERS; index++) {
    await post(base, '/org/members', { email: `member-${index}@example.com`, password: PASSWORD }, owner.token);
  }
  const renamed = [];
  for (let start = 0; start < RENAMED_ORGANIZATIONS; start += 10) {
    const batch = Array.from({ length: 10 }, (_, offset) => {
      const name = `Rename Source ${start + offset}`;
      return createOrganization(base, name, `rename-${start + offset}@example.com`).then((created) => ({
        name,
        token: created.token,
      }));
    });
    renamed.push(...(await Promise.all(batch)));
  }
  return { ...owner, email: 'bench@example.com', renamed };
}

async function createOrganization(base, name, email) {
  const created = await post(base, '/org/create', { organization_name: name, email, password: PASSWORD });
  const login = await post(base, '/admin/login', { email, password: PASSWORD });
  return { token: login.access_token, adminId: created.data.admin_id, organizationId: created.data.organization_id };
}

/** Operations per second of raw compare and hash, as many at once as the service runs them. */
async function bcryptFloors() {
  const threads = Math.min(BCRYPT_CONCURRENCY, Number(process.env.UV_THREADPOOL_SIZE ?? 4));
  const hash = await bcrypt.hash(PASSWORD, BCRYPT_COST);
  const rate = async (operation) => {
    await operation();
    let done = 0;
    const until = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: threads }, async () => {
        while (Date.now() < until) {
          await operation();
          done += 1;
        }
      }),
    );
    return Math.round(done / SECONDS);
  };
  return {
    threads,
    compare: await rate(() => bcrypt.compare(PASSWORD, hash)),
    hash: await rate(() => bcrypt.hash(PASSWORD, BCRYPT_COST)),
  };
}

function printBcrypt(floor) {
  console.log(
    `floor (c): bcrypt cost ${BCRYPT_COST} on ${floor.threads} threads: compare ${floor.compare}/s, hash ${floor.hash}/s`,
  );
}

function printFloors(floor) {
  for (const name of ['b', 'a', "a'"]) {
    print(`floor (${name})`, floor[name], null, null);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
