#!/usr/bin/env node
'use strict';
/**
 * HTTP throughput and latency of the built service (`npm run build` first) against a local
 * MongoDB-wire server, or MONGODB_URI. Prints one line per scenario and the app's memory.
 *
 *   node bench/http.js [--seconds 5] [--connections 20] [--mode collection|database]
 */
const autocannon = require('autocannon');
const { readFileSync } = require('node:fs');
const { startAppProcess } = require('../tools/app-process');
const { startLocalMongo } = require('../tools/local-mongo');

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce(
      (pairs, arg, index, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[index + 1]]] : pairs),
      [],
    ),
);
const SECONDS = Number(args.seconds ?? 5);
const CONNECTIONS = Number(args.connections ?? 20);
const MODE = args.mode ?? 'collection';
const PASSWORD = 'SecurePassword123!';

async function main() {
  const database = process.env.MONGODB_URI ? null : await startLocalMongo({ memory: true });
  let app;
  try {
    // The built app on a free port; its output is kept, and shown should it stop during the run.
    app = await startAppProcess({
      MONGODB_URI: process.env.MONGODB_URI ?? database.uri,
      MASTER_DB_NAME: `bench_${Date.now()}`,
      TENANCY_MODE: MODE,
      LOG_LEVEL: 'warn',
      BCRYPT_COST: '10',
      NODE_ENV: 'development',
    });
    const base = app.url;
    const token = await seed(base);
    console.log(`mode=${MODE} connections=${CONNECTIONS} seconds=${SECONDS} bcrypt_cost=10`);
    const scenarios = [
      ['GET /health', { path: '/health' }],
      ['GET /org/get (anonymous)', { path: '/org/get?organization_name=Bench%20Org' }],
      [
        'GET /org/get (owner token)',
        { path: '/org/get?organization_name=Bench%20Org', headers: { authorization: `Bearer ${token}` } },
      ],
      ['GET /admin/me', { path: '/admin/me', headers: { authorization: `Bearer ${token}` } }],
      [
        'POST /org/create (409 duplicate)',
        postJson('/org/create', { organization_name: 'Bench Org', email: 'dup@example.com', password: PASSWORD }),
      ],
      ['POST /admin/login (bcrypt)', postJson('/admin/login', { email: 'bench@example.com', password: PASSWORD })],
    ];
    for (const [name, request] of scenarios) {
      const result = await autocannon({ url: base, connections: CONNECTIONS, duration: SECONDS, requests: [request] });
      const errors = result.non2xx + result.errors + result.timeouts;
      console.log(
        `${name.padEnd(34)} ${String(Math.round(result.requests.average)).padStart(6)} req/s  ` +
          `p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  ${errors ? `non-2xx/errors ${errors}` : 'all 2xx'}`,
      );
    }
    if (app.child.exitCode !== null || app.child.signalCode !== null) {
      throw new Error(`the app stopped during the run:\n${app.output()}`);
    }
    console.log(`app RSS after the run: ${Math.round(rssKiB(app.pid) / 1024)} MiB`);
  } finally {
    await app?.stop();
    await database?.stop();
  }
}

function postJson(pathName, body) {
  return {
    method: 'POST',
    path: pathName,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

async function seed(base) {
  await fetch(
    `${base}/org/create`,
    postInit({ organization_name: 'Bench Org', email: 'bench@example.com', password: PASSWORD }),
  );
  const response = await fetch(`${base}/admin/login`, postInit({ email: 'bench@example.com', password: PASSWORD }));
  return (await response.json()).access_token;
}

function postInit(body) {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
