'use strict';
/** What bench/http.js and bench/scale.js share: options, load generation, seeding requests, output. */
const autocannon = require('autocannon');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startLocalMongo } = require('../tools/local-mongo');

const PASSWORD = 'SecurePassword123!';

/** `--seconds 10 --warmup 2 --connections 50 --workers 1 --mode collection|database`, with these defaults. */
function benchOptions(argv, defaults = {}) {
  const args = Object.fromEntries(
    argv.reduce(
      (pairs, arg, index, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[index + 1]]] : pairs),
      [],
    ),
  );
  return {
    seconds: Number(args.seconds ?? defaults.seconds ?? 10),
    warmup: Number(args.warmup ?? defaults.warmup ?? 2),
    connections: Number(args.connections ?? defaults.connections ?? 50),
    workers: Number(args.workers ?? 1),
    modes: args.mode ? [args.mode] : ['collection', 'database'],
    args,
  };
}

function machine() {
  return { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) };
}

/**
 * A run: `benchMode(uri, mode)` for each mode, each on a database of its own (a new local
 * MongoDB-wire server, whose heap the other mode's data would crowd, or MONGODB_URI), recorded with
 * the machine and `header`, then written to bench/results/.
 */
async function runModes(modes, header, benchMode, { resultsPrefix = '', databaseHeapMiB } = {}) {
  const run = { at: new Date().toISOString(), machine: machine(), node: process.version, ...header, modes: {} };
  for (const mode of modes) {
    const database = process.env.MONGODB_URI ? null : await startLocalMongo({ memory: true, heapMiB: databaseHeapMiB });
    try {
      run.modes[mode] = await benchMode(process.env.MONGODB_URI ?? database.uri, mode);
    } finally {
      await database?.stop();
    }
  }
  writeResults(run, resultsPrefix);
}

/** A warm-up run, thrown away, then the measured one. */
async function measure(url, request, { seconds, warmup, connections }) {
  if (warmup > 0) {
    await autocannon({ url, connections, duration: warmup, requests: [request] });
  }
  return summary(await autocannon({ url, connections, duration: seconds, requests: [request] }));
}

function summary(result) {
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
  };
}

async function post(base, pathName, body, token) {
  const response = await fetch(`${base}${pathName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`seeding: POST ${pathName} answered ${response.status}: ${await response.text()}`);
  }
  return response.json();
}

function postJson(pathName, body) {
  return {
    method: 'POST',
    path: pathName,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

function print(name, result, floorName, ratio) {
  const against = floorName ? `  ${ratio.toFixed(2)} of (${floorName})` : '';
  console.log(
    `${name.padEnd(42)} ${String(result.rps).padStart(6)} req/s  p50 ${String(result.p50).padStart(3)} ms  ` +
      `p99 ${String(result.p99).padStart(4)} ms  non-2xx ${result.non2xx}${against}`,
  );
}

/** Resident memory of a process and its children (the workers of WEB_CONCURRENCY), in MiB. */
function rssMiB(pid) {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
  const kiB = (id) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${id}/status`, 'utf8'))[1]);
  return Math.round([pid, ...children].reduce((total, id) => total + kiB(id), 0) / 1024);
}

/** Writes the run to bench/results/<prefix><time>.json and says where. */
function writeResults(run, prefix = '') {
  const directory = path.join(__dirname, 'results');
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${prefix}${run.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
}

module.exports = { PASSWORD, benchOptions, runModes, measure, summary, post, postJson, print, rssMiB };
