#!/usr/bin/env node
'use strict';
/**
 * `npm run bench:scale`: whether an organization costs the same at 10 000 organizations as at 10.
 * In each tenancy mode, the built service on a local MongoDB-wire server (or MONGODB_URI):
 *
 * - creates organizations through the API, many at once; each create writes the organization's
 *   first audit entry into its own storage through a tenant model, so every tenant's storage is
 *   touched once through one;
 * - at 10 organizations, and again at 10 000, measures GET /org/get of a random organization
 *   (p50, p99, req/s) and the service's resident memory;
 * - times the creates around 1 000 organizations and around 10 000.
 *
 * Seeding 10 000 organizations at bcrypt cost 10 would take most of an hour, so the service runs
 * with BCRYPT_COST=4 and NODE_ENV=test (production refuses a cost under 10), as the output says.
 *
 *   npm run bench:scale -- [--organizations 10000] [--seconds 10] [--warmup 2] [--connections 50] [--mode ...]
 */
const { randomBytes } = require('node:crypto');
const { startAppProcess } = require('../tools/app-process');
const { PASSWORD, benchOptions, runModes, measure, post, print, rssMiB } = require('./common');

const OPTIONS = benchOptions(process.argv.slice(2));
const ORGANIZATIONS = Number(OPTIONS.args.organizations ?? 10_000);
const SMALL = 10;
/** Creates timed together: the rate "at N organizations" is that of the creates that end at N. */
const RATE_WINDOW = 500;
const CREATES_AT_ONCE = 16;
const BCRYPT_COST = 4;

async function main() {
  console.log(
    `bench:scale: BCRYPT_COST=${BCRYPT_COST} and NODE_ENV=test, to seed ${ORGANIZATIONS} organizations quickly ` +
      '(production refuses a cost under 10)',
  );
  const settings = { ...OPTIONS, args: undefined, organizations: ORGANIZATIONS, bcryptCost: BCRYPT_COST };
  await runModes(OPTIONS.modes, { settings }, scaleMode, {
    resultsPrefix: 'scale-',
    // 10 000 databases fill the local server's default 256 MiB heap: near the cap its collector held
    // reads up for 1.6 s at a time (p99), which measured the server, not the service.
    databaseHeapMiB: 1024,
  });
}

async function scaleMode(uri, mode) {
  const app = await startAppProcess({
    MONGODB_URI: uri,
    MASTER_DB_NAME: `bench_scale_${mode}_${Date.now()}`,
    TENANCY_MODE: mode,
    NODE_ENV: 'test',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    BCRYPT_COST: String(BCRYPT_COST),
    CREATE_RATE_LIMIT: '100000000',
    CREATE_GLOBAL_RATE_LIMIT: '100000000',
    // As the Dockerfile runs it.
    MALLOC_ARENA_MAX: '2',
  });
  try {
    console.log(`\nmode=${mode}`);
    const names = [];
    const rssAtStart = rssMiB(app.pid);
    await createUpTo(app.url, names, SMALL);
    const small = await readRandom(app.url, names, `GET /org/get, random of ${SMALL}`);
    const rssSmall = rssMiB(app.pid);

    const rates = {};
    const started = Date.now();
    while (names.length < ORGANIZATIONS) {
      const target = Math.min(ORGANIZATIONS, (Math.floor(names.length / RATE_WINDOW) + 1) * RATE_WINDOW);
      const from = Date.now();
      const before = names.length;
      await createUpTo(app.url, names, target);
      rates[target] = Math.round(((names.length - before) * 1000) / (Date.now() - from));
      console.log(`created ${names.length}: ${rates[target]}/s`);
    }
    const seededIn = (Date.now() - started) / 1000;
    const rssAfterCreates = rssMiB(app.pid);
    const large = await readRandom(app.url, names, `GET /org/get, random of ${ORGANIZATIONS}`);
    const rssLarge = rssMiB(app.pid);

    const at1000 = rates[Math.min(1000, ORGANIZATIONS)];
    const atEnd = rates[ORGANIZATIONS];
    const result = {
      rssMiB: { start: rssAtStart, small: rssSmall, afterCreates: rssAfterCreates, large: rssLarge },
      small,
      large,
      p50Ratio: large.p50 / Math.max(small.p50, 1),
      createRate: { at1000, atEnd, ratio: at1000 / atEnd, byWindow: rates },
      seededSeconds: seededIn,
    };
    console.log(
      `created ${ORGANIZATIONS} in ${seededIn.toFixed(0)} s: ${at1000}/s around 1 000, ${atEnd}/s around ` +
        `${ORGANIZATIONS} (${result.createRate.ratio.toFixed(2)}x)`,
    );
    console.log(
      `GET /org/get p50 ${small.p50} ms at ${SMALL}, ${large.p50} ms at ${ORGANIZATIONS} ` +
        `(${result.p50Ratio.toFixed(2)}x); p99 ${small.p99} ms, ${large.p99} ms`,
    );
    console.log(
      `resident memory: ${rssAtStart} MiB at start, ${rssSmall} MiB at ${SMALL}, ${rssAfterCreates} MiB after ` +
        `${ORGANIZATIONS} creates, ${rssLarge} MiB after the reads`,
    );
    if (app.child.exitCode !== null || app.child.signalCode !== null) {
      throw new Error(`the app stopped during the run:\n${app.output()}`);
    }
    return result;
  } finally {
    await app.stop();
  }
}

/** Creates organizations, CREATES_AT_ONCE at a time, until there are `target`. */
async function createUpTo(base, names, target) {
  while (names.length < target) {
    const batch = Array.from({ length: Math.min(CREATES_AT_ONCE, target - names.length) }, (_, offset) => {
      const index = names.length + offset;
      const name = `Scale ${index} ${randomBytes(3).toString('hex')}`;
      return post(base, '/org/create', {
        organization_name: name,
        email: `scale-${name.replace(/ /g, '-')}@example.com`,
        password: PASSWORD,
      }).then(() => name);
    });
    names.push(...(await Promise.all(batch)));
  }
}

async function readRandom(base, names, label) {
  const result = await measure(
    base,
    {
      method: 'GET',
      setupRequest: (request) => ({
        ...request,
        path: `/org/get?organization_name=${encodeURIComponent(names[Math.floor(Math.random() * names.length)])}`,
      }),
    },
    OPTIONS,
  );
  print(label, result, null, null);
  return result;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
